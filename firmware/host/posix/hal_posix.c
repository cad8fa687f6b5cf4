/* The board HAL (src/hal.h) for Linux, part 1: logs on stderr (log_stderr.c), module files from the file system,
 * persistent records as files in $FERRY_STATE_DIR (default ./ferry-state), and the watchdog as a
 * pthread waiting on a condition variable. Clocks and the simulated room: sim_posix.c; module slots:
 * store_posix.c; the serial line (a pseudo-terminal): board_posix.c. */
#define _POSIX_C_SOURCE 200809L

#include "hal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* WAMR's print hook (posix/wamr_vprintf.h): its lines already carry their own prefix and newline. */
int ferry_wamr_vprintf(const char *format, va_list ap) { return vfprintf(stderr, format, ap); }

bool hal_read_file(const char *path, uint8_t **data, uint32_t *size, char *err, size_t err_size) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_size, "cannot open %s: %s", path, strerror(errno));
        return false;
    }
    uint8_t *buf = NULL;
    long len = -1;
    if (fseek(f, 0, SEEK_END) == 0) len = ftell(f);
    if (len < 0 || len > (long)UINT32_MAX || fseek(f, 0, SEEK_SET) != 0) {
        snprintf(err, err_size, "cannot size %s", path);
    } else if (!(buf = malloc(len > 0 ? (size_t)len : 1))) {
        snprintf(err, err_size, "out of memory reading %s (%ld bytes)", path, len);
    } else if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
        snprintf(err, err_size, "cannot read %s: %s", path, ferror(f) ? strerror(errno) : "short read");
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (!buf) return false;
    *data = buf;
    *size = (uint32_t)len;
    return true;
}

void hal_free_file(uint8_t *data) { free(data); }

/* Record path for a key, or false for a key that could escape the state directory. */
static bool record_path(const char *key, char *path, size_t size) {
    size_t n = strlen(key);
    if (n == 0 || n > 64 || strcmp(key, ".") == 0 || strcmp(key, "..") == 0) return false;
    for (size_t i = 0; i < n; i++) {
        char c = key[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok) return false;
    }
    const char *dir = getenv("FERRY_STATE_DIR");
    if (!dir || !*dir) dir = "ferry-state";
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) return false;
    return (size_t)snprintf(path, size, "%s/%s", dir, key) < size;
}

bool hal_persist_write(const char *key, const void *data, size_t size) {
    char path[4096], tmp[4200];
    if (!record_path(key, path, sizeof path)) return false;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return false;
    bool ok = fwrite(data, 1, size, f) == size;
    ok = (fflush(f) == 0) && ok;
    ok = (fsync(fileno(f)) == 0) && ok;
    ok = (fclose(f) == 0) && ok;
    if (ok && rename(tmp, path) == 0) return true; /* rename: the old record or the new, never half */
    unlink(tmp);
    return false;
}

long hal_persist_read(const char *key, void *buf, size_t cap) {
    char path[4096];
    if (!record_path(key, path, sizeof path)) return -2;
    FILE *f = fopen(path, "rb");
    if (!f) return errno == ENOENT ? -1 : -2;
    long len = -2;
    if (fseek(f, 0, SEEK_END) == 0) len = ftell(f);
    if (len >= 0 && (size_t)len <= cap && (fseek(f, 0, SEEK_SET) != 0 || fread(buf, 1, (size_t)len, f) != (size_t)len))
        len = -2;
    fclose(f);
    return len < 0 ? -2 : len;
}

/* Watchdog: one thread per armed call, woken early by disarm. */
static struct {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool armed, cancelled;
    struct timespec deadline;
    void (*fn)(void *);
    void *arg;
} wd = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void *watchdog_main(void *unused) {
    (void)unused;
    pthread_mutex_lock(&wd.lock);
    int rc = 0;
    while (!wd.cancelled && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&wd.cond, &wd.lock, &wd.deadline);
    bool fire = !wd.cancelled;
    pthread_mutex_unlock(&wd.lock);
    if (fire) wd.fn(wd.arg);
    return NULL;
}

bool hal_watchdog_arm(uint32_t ms, void (*fn)(void *arg), void *arg) {
    if (wd.armed) return false;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* immune to wall-clock jumps */
    pthread_cond_init(&wd.cond, &attr);
    pthread_condattr_destroy(&attr);
    clock_gettime(CLOCK_MONOTONIC, &wd.deadline);
    wd.deadline.tv_sec += ms / 1000;
    wd.deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (wd.deadline.tv_nsec >= 1000000000L) {
        wd.deadline.tv_sec++;
        wd.deadline.tv_nsec -= 1000000000L;
    }
    wd.fn = fn;
    wd.arg = arg;
    wd.cancelled = false;
    if (pthread_create(&wd.thread, NULL, watchdog_main, NULL) != 0) {
        pthread_cond_destroy(&wd.cond);
        return false;
    }
    wd.armed = true;
    return true;
}

void hal_watchdog_disarm(void) {
    if (!wd.armed) return;
    pthread_mutex_lock(&wd.lock);
    wd.cancelled = true;
    pthread_cond_signal(&wd.cond);
    pthread_mutex_unlock(&wd.lock);
    pthread_join(wd.thread, NULL);
    pthread_cond_destroy(&wd.cond);
    wd.armed = false;
}
