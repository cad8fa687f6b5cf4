/* The board's side of the serial protocol (docs/serial-protocol.md): frame output helpers and the
 * one dispatch switch (serial_dispatch.c) that hands each frame kind to its one handler. */
#ifndef FERRY_SERIAL_H
#define FERRY_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

void serial_send(uint8_t kind, uint16_t seq, const uint8_t *payload, size_t len);
void serial_ack(uint16_t seq, const uint8_t *payload, size_t len);
void serial_ack_u32(uint16_t seq, uint32_t value);
void serial_nack(uint16_t seq, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Every frame the receiver produced, and every receive error (answered with a NACK on seq 0). */
void serial_dispatch(const frame_t *f);
void serial_rx_error(int code);

/* Handlers, one per inbound kind. */
void serial_on_hello(const frame_t *f);
void serial_on_command(const frame_t *f);
void serial_on_upload_begin(const frame_t *f);
void serial_on_upload_chunk(const frame_t *f);
void serial_on_upload_commit(const frame_t *f);
void serial_on_test(const frame_t *f);
void serial_on_signed_command(const frame_t *f);

/* Drops an upload in progress (its bytes are discarded; nothing else changes). */
void serial_upload_reset(void);

static inline uint32_t serial_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void serial_put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

#endif /* FERRY_SERIAL_H */
