/* One switch over frame kinds (after MQTT.js's `switch (packet.cmd)`) and the output
 * helpers. One file per handler: serial_hello.c, serial_command.c, serial_upload.c (begin, chunk,
 * commit), serial_test.c, serial_signed_command.c. */
#include "serial.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hal.h"

void serial_send(uint8_t kind, uint16_t seq, const uint8_t *payload, size_t len) {
    static uint8_t out[FRAME_MAX_ENCODED];
    size_t n = frame_encode(kind, seq, payload, len, out, sizeof out);
    if (n == 0) {
        hal_log(HAL_LOG_ERROR, "serial: frame of %u bytes does not fit, dropped", (unsigned)len);
        return;
    }
    hal_serial_write(out, n);
}

void serial_ack(uint16_t seq, const uint8_t *payload, size_t len) { serial_send(FRAME_ACK, seq, payload, len); }

void serial_ack_u32(uint16_t seq, uint32_t value) {
    uint8_t b[4];
    serial_put32(b, value);
    serial_ack(seq, b, 4);
}

void serial_nack(uint16_t seq, int code, const char *fmt, ...) {
    uint8_t buf[2 + 240];
    buf[0] = (uint8_t)(code & 0xff);
    buf[1] = (uint8_t)(code >> 8);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf((char *)buf + 2, sizeof buf - 2, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n > sizeof buf - 3) n = (int)(sizeof buf - 3);
    serial_send(FRAME_NACK, seq, buf, 2 + (size_t)n);
}

void serial_rx_error(int code) {
    /* The frame could not be read, so its seq is unknown: seq 0 is never used by a request. */
    static const char *const why[] = { "", "bad CRC", "malformed COBS", "frame too large", "frame too short", "unsupported version" };
    serial_nack(0, code, "%s", code > 6000 && code <= 6005 ? why[code - 6000] : "receive error");
}

void serial_dispatch(const frame_t *f) {
    switch (f->kind) {
    case FRAME_HELLO: serial_on_hello(f); break;
    case FRAME_COMMAND: serial_on_command(f); break;
    case FRAME_UPLOAD_BEGIN: serial_on_upload_begin(f); break;
    case FRAME_UPLOAD_CHUNK: serial_on_upload_chunk(f); break;
    case FRAME_UPLOAD_COMMIT: serial_on_upload_commit(f); break;
    case FRAME_TEST: serial_on_test(f); break;
    case FRAME_SIGNED_COMMAND: serial_on_signed_command(f); break;
    default: /* includes the board -> gateway kinds, which a board never accepts */
        serial_nack(f->seq, SERIAL_UNKNOWN_KIND, "unknown frame kind 0x%02x", f->kind);
        break;
    }
}
