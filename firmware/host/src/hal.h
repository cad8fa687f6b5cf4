/* Board HAL: everything the embedding needs from the board, so src/ stays board-independent.
 * posix/ implements it for Linux (hal_posix.c, sim_posix.c, store_posix.c); firmware/esp32/main/
 * implements the same functions with ESP-IDF (esp_timer, ESP_LOG, NVS, flash partitions, GPIO). */
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

/* ---- Board I/O behind the ABI natives (src/natives.c) ---- */

/* sensor.read: writes hundredths of the unit; returns FERRY_STATUS_OK or a negative ABI status. */
int32_t hal_sensor_read(int32_t channel, int32_t *centi);
/* actuator.set: 0 or a negative ABI status. hal_actuator_get reports the current output (0/1). */
int32_t hal_actuator_set(int32_t channel, int32_t value);
int32_t hal_actuator_get(int32_t channel);
/* This device's id (the message kid), NUL-terminated, 1..32 chars of [A-Za-z0-9._-]. */
const char *hal_device_id(void);
/* HMAC-SHA256 of data with the device key, which never leaves the HAL (posix: key file; esp32: NVS
 * or the HMAC peripheral). False when no key is provisioned. */
bool hal_sign(const uint8_t *data, size_t len, uint8_t mac[32]);
/* HMAC-SHA256 of data with the device's downlink key, HKDF-SHA256(device key, salt "ferry/downlink/v1",
 * info = device id) (docs/message-format.md "Downlink"), derived and kept in the HAL like the device key.
 * Verifies signed commands (src/command.c). False when no key is provisioned. */
bool hal_downlink_mac(const uint8_t *data, size_t len, uint8_t mac[32]);
/* Called before every (re)boot of the module: restarts the uptime clock where the board does so. */
void hal_on_boot(void);

/* ---- Serial line to the gateway ---- */

/* Writes one whole frame; a board whose line is stuck for long drops the frame (a UART does too). */
void hal_serial_write(const uint8_t *data, size_t len);

/* ---- Module storage: a factory module and two A/B slots for uploaded ones ---- */

#define HAL_SLOT_COUNT 2
/* Largest module a slot holds. */
uint32_t hal_slot_capacity(void);
/* The module the board runs when no uploaded module is active; false if it has none. */
bool hal_factory_module(uint8_t **data, uint32_t *size);
/* Upload into a slot: open (erase / create a temp file), write in order, close. close(keep=true)
 * makes the bytes the slot's content atomically (posix: fsync + rename; esp32: the partition is only
 * referenced by the boot record after close), close(keep=false) discards them. */
bool hal_slot_open(int slot, uint32_t size);
bool hal_slot_write(int slot, uint32_t offset, const uint8_t *data, uint32_t len);
bool hal_slot_close(int slot, bool keep);
/* Reads a slot's module (size bytes) into a buffer freed with hal_free_file. */
bool hal_slot_read(int slot, uint32_t size, uint8_t **data);

#endif /* FERRY_HAL_H */
