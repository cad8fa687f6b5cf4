/* ferry-frame-vectors on the rv32 target: the unchanged src/frame_vectors.c filter, with stdin and
 * stdout as host files (semihosting SYS_OPEN / SYS_READ / SYS_WRITE) named by the launcher in the
 * provisioning text of the flash ("in PATH", "out PATH": rv32/ferry-board-rv32.sh). QEMU's semihosting
 * console has no end of input, a file does. picolibc lets a program supply its own standard streams. */
#include <semihost.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flash_rv32.h"

static int in_fd = -1, out_fd = -1;
static char in_buf[4096], out_buf[4096];
static size_t in_len, in_pos, out_len;

static int in_get(FILE *f) {
    (void)f;
    if (in_pos == in_len) {
        if (in_fd < 0) return _FDEV_EOF;
        /* SYS_READ returns the number of bytes NOT read. */
        uintptr_t left = sys_semihost_read(in_fd, in_buf, sizeof in_buf);
        in_len = sizeof in_buf - left;
        in_pos = 0;
        if (in_len == 0) return _FDEV_EOF;
    }
    return (unsigned char)in_buf[in_pos++];
}

static int out_flush(FILE *f) {
    (void)f;
    if (out_fd >= 0 && out_len > 0) sys_semihost_write(out_fd, out_buf, out_len);
    out_len = 0;
    return 0;
}

static int out_put(char c, FILE *f) {
    out_buf[out_len++] = c;
    if (out_len == sizeof out_buf) out_flush(f);
    return (unsigned char)c;
}

static FILE in_file = FDEV_SETUP_STREAM(NULL, in_get, NULL, _FDEV_SETUP_READ);
static FILE out_file = FDEV_SETUP_STREAM(out_put, NULL, out_flush, _FDEV_SETUP_WRITE);
static FILE err_file = FDEV_SETUP_STREAM(sys_semihost_putc, NULL, NULL, _FDEV_SETUP_WRITE);
FILE *const stdin = &in_file;
FILE *const stdout = &out_file;
FILE *const stderr = &err_file;

static void flush_out(void) { out_flush(stdout); }

/* "in PATH" / "out PATH" lines at the start of the flash. */
__attribute__((constructor)) static void open_streams(void) {
    static char text[1024];
    flash_config_text(text, sizeof text);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strncmp(line, "in ", 3)) in_fd = sys_semihost_open(line + 3, 0); /* mode 0: "r" */
        if (!strncmp(line, "out ", 4)) out_fd = sys_semihost_open(line + 4, 4); /* mode 4: "w" */
    }
    atexit(flush_out);
}
