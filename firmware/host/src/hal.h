/* Board HAL: everything the embedding needs from the board, so src/ stays board-independent.
 * posix/hal_posix.c implements it for Linux; an ESP-IDF port implements the same functions
 * (esp_timer, ESP_LOG, a flash partition or SPIFFS, NVS). */
#ifndef FERRY_HAL_H
#define FERRY_HAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Same numbering as the ABI's log.write levels. */
typedef enum {
    HAL_LOG_DEBUG = 0,
    HAL_LOG_INFO = 1,
    HAL_LOG_WARN = 2,
    HAL_LOG_ERROR = 3,
} hal_log_level_t;

/* Wall-clock time in Unix milliseconds; may jump (NTP, RTC). 0 when the board does not know it yet. */
int64_t hal_now_ms(void);

/* Milliseconds since boot; monotonic. */
int64_t hal_uptime_ms(void);

/* One log line (no trailing newline needed). */
void hal_log(hal_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void hal_vlog(hal_log_level_t level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Reads a whole file (a module image) into a fresh writable buffer, released with hal_free_file().
 * On failure returns false and writes a reason into err. */
bool hal_read_file(const char *path, uint8_t **data, uint32_t *size, char *err, size_t err_size);
void hal_free_file(uint8_t *data);

/* Small persistent key/value records that survive a reboot (boot counter, module state).
 * Keys are 1..64 bytes of [A-Za-z0-9._-]. hal_persist_write replaces the record atomically.
 * hal_persist_read returns the record's length (copying it when it fits in cap), -1 if there is
 * no such record, -2 on a bad key or an I/O error. */
bool hal_persist_write(const char *key, const void *data, size_t size);
long hal_persist_read(const char *key, void *buf, size_t cap);

/* Watchdog for one wasm call: after ms milliseconds, runs fn(arg) on another thread/timer context
 * unless hal_watchdog_disarm() came first. At most one armed at a time. disarm waits for a running
 * fn to finish, so arg may be freed afterwards. */
bool hal_watchdog_arm(uint32_t ms, void (*fn)(void *arg), void *arg);
void hal_watchdog_disarm(void);

#endif /* FERRY_HAL_H */
