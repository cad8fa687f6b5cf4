/* Serial framing shared by every board (docs/serial-protocol.md): a frame is
 *   version u8 | kind u8 | seq u16 LE | payload | crc32 u32 LE
 * COBS-encoded (Cheshire & Baker, "Consistent Overhead Byte Stuffing", IEEE/ACM ToN 1999) and followed
 * by one 0x00 delimiter. The CRC is CRC-32/ISO-HDLC (the zlib/Ethernet CRC; check value 0xCBF43926 in
 * Greg Cook's "Catalogue of parametrised CRC algorithms") over version..payload.
 * packages/serial/src/frame.ts is the TypeScript twin; packages/serial/fixtures/frames.json holds the
 * shared vectors (checked against this file by hw-tests/frame-vectors.test.ts). */
#ifndef FERRY_FRAME_H
#define FERRY_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_VERSION 1
#define FRAME_HEADER 4                       /* version, kind, seq */
#define FRAME_OVERHEAD (FRAME_HEADER + 4)    /* + crc32 */
#define FRAME_MAX_DECODED 4096               /* header + payload + crc */
#define FRAME_MAX_PAYLOAD (FRAME_MAX_DECODED - FRAME_OVERHEAD)
/* COBS adds at most one byte per 254 (ceil(n/254)), plus the delimiter. */
#define FRAME_MAX_ENCODED (FRAME_MAX_DECODED + (FRAME_MAX_DECODED + 253) / 254 + 1)

/* Frame kinds (u8). One handler per kind: serial_dispatch.c. */
enum {
    FRAME_HELLO = 0x01,        /* gateway -> board: empty; answered by INFO */
    FRAME_INFO = 0x02,         /* board -> gateway: identity, module hash, epoch, free memory */
    FRAME_MESSAGE = 0x03,      /* board -> gateway: a signed token, exactly the bytes msg.emit got */
    FRAME_COMMAND = 0x04,      /* gateway -> board: op u8 + args (state set, reboot) */
    FRAME_UPLOAD_BEGIN = 0x05, /* size u32 + sha256[32] */
    FRAME_UPLOAD_CHUNK = 0x06, /* offset u32 + bytes */
    FRAME_UPLOAD_COMMIT = 0x07,/* empty; ACK carries the new epoch */
    FRAME_ACK = 0x08,          /* board -> gateway: result bytes, kind-specific */
    FRAME_NACK = 0x09,         /* board -> gateway: code u16 (6xxx) + UTF-8 detail */
    FRAME_LOG = 0x0a,          /* board -> gateway: level u8 + text */
    FRAME_SIGNED_COMMAND = 0x0b, /* gateway -> board: a signed command token, unchanged; ACK outcome u8 */
    FRAME_TEST = 0x10,         /* gateway -> posix board only: test-control op u8 + args */
};

/* Error catalog, numeric range 6xxx (names FERRY_SERIAL_*; mirrored in packages/serial/src/errors.ts). */
enum {
    SERIAL_CRC = 6001,
    SERIAL_COBS = 6002,
    SERIAL_TOO_LARGE = 6003,
    SERIAL_TOO_SHORT = 6004,
    SERIAL_VERSION = 6005,
    SERIAL_UNKNOWN_KIND = 6006,
    SERIAL_BAD_PAYLOAD = 6007,
    SERIAL_UPLOAD_NOT_STARTED = 6101,
    SERIAL_UPLOAD_OFFSET = 6102,
    SERIAL_UPLOAD_SIZE = 6103,
    SERIAL_UPLOAD_INCOMPLETE = 6104,
    SERIAL_UPLOAD_HASH = 6105,
    SERIAL_UPLOAD_REJECTED = 6106,
    SERIAL_STORAGE = 6107,
    SERIAL_NOT_SUPPORTED = 6201,
    SERIAL_MODULE_TRAP = 6202,
    SERIAL_NO_MODULE = 6203,
    SERIAL_STATE = 6204,
};

typedef struct {
    uint8_t version, kind;
    uint16_t seq;
    const uint8_t *payload; /* points into the receiver's buffer; valid until the next feed */
    size_t payload_len;
} frame_t;

uint32_t frame_crc32(const uint8_t *data, size_t len);

/* COBS-encodes src into out (no delimiter). Returns the encoded length, or 0 if cap is too small. */
size_t cobs_encode(const uint8_t *src, size_t len, uint8_t *out, size_t cap);
/* Decodes one COBS block (without its delimiter). Returns the decoded length, or -1 if malformed or
 * longer than cap. */
long cobs_decode(const uint8_t *src, size_t len, uint8_t *out, size_t cap);

/* Builds a complete wire frame (COBS + delimiter) in out. Returns its length, 0 on overflow. */
size_t frame_encode(uint8_t kind, uint16_t seq, const uint8_t *payload, size_t len, uint8_t *out, size_t cap);

/* Parses a decoded frame (after COBS). Returns 0 or a SERIAL_* code. */
int frame_parse(const uint8_t *dec, size_t len, frame_t *f);

/* Streaming receiver: bytes in, frames or errors out; resynchronises at every 0x00. */
typedef struct {
    uint8_t enc[FRAME_MAX_ENCODED];
    uint8_t dec[FRAME_MAX_ENCODED]; /* COBS never expands when decoding: frame_parse judges the size */
    size_t len;
    bool discarding; /* an oversized frame: drop bytes until the next delimiter */
} frame_rx_t;

typedef enum { RX_NONE, RX_FRAME, RX_ERROR } rx_event_t;

void frame_rx_init(frame_rx_t *rx);
/* Feeds one byte. RX_FRAME fills *f; RX_ERROR sets *code (a SERIAL_* code). */
rx_event_t frame_rx_byte(frame_rx_t *rx, uint8_t byte, frame_t *f, int *code);

#endif /* FERRY_FRAME_H */
