/* hal_log for boards whose logs are a standard error stream: the posix board's stderr, and the rv32
 * board's semihosting console (QEMU's stderr). One line per call, "level: text". */
#include <stdio.h>

#include "hal.h"

int hal_log_threshold = HAL_LOG_DEBUG; /* raised by --quiet (board_posix.c, rv32/board_rv32.c) */

void hal_vlog(hal_log_level_t level, const char *fmt, va_list ap) {
    static const char *const names[] = { "debug", "info", "warn", "error" };
    if ((int)level < hal_log_threshold) return;
    const char *name = (unsigned)level < 4 ? names[level] : "error";
    fprintf(stderr, "%s: ", name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void hal_log(hal_log_level_t level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    hal_vlog(level, fmt, ap);
    va_end(ap);
}
