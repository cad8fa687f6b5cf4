/* Serial framing (see frame.h). */
#include "frame.h"

#include <string.h>

/* CRC-32/ISO-HDLC: poly 0x04C11DB7 reflected (0xEDB88320), init and xorout 0xFFFFFFFF (CRC catalogue,
 * "CRC-32/ISO-HDLC"). Table-driven, the table built once (1 KiB; ESP-IDF could use esp_rom_crc32_le). */
uint32_t frame_crc32(const uint8_t *data, size_t len) {
    static uint32_t table[256];
    static bool ready;
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = true;
    }
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) crc = table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

/* COBS (Cheshire & Baker 1999, section 3): each block is a code byte c = 1 + the number of non-zero
 * bytes that follow; a block with c < 0xFF stands for those bytes and one zero; c = 0xFF for 254
 * bytes and no zero. The final implicit zero is dropped by the decoder. */
size_t cobs_encode(const uint8_t *src, size_t len, uint8_t *out, size_t cap) {
    if (cap == 0) return 0;
    size_t o = 1, code_at = 0;
    uint8_t code = 1;
    for (size_t i = 0; i < len; i++) {
        if (src[i] != 0) {
            if (o >= cap) return 0;
            out[o++] = src[i];
            if (++code != 0xFF) continue;
            if (i + 1 == len) break; /* input ends with a full block: no empty block after it */
        }
        out[code_at] = code; /* close the block at a zero, or after 254 non-zero bytes */
        if (o >= cap) return 0;
        code_at = o++;
        code = 1;
    }
    out[code_at] = code;
    return o;
}

long cobs_decode(const uint8_t *src, size_t len, uint8_t *out, size_t cap) {
    size_t i = 0, o = 0;
    while (i < len) {
        uint8_t code = src[i++];
        if (code == 0) return -1; /* a zero cannot occur inside an encoded block */
        size_t n = (size_t)code - 1;
        if (n > len - i || o + n > cap) return -1;
        for (size_t k = 0; k < n; k++) {
            if (src[i + k] == 0) return -1;
            out[o++] = src[i + k];
        }
        i += n;
        if (code != 0xFF && i < len) {
            if (o >= cap) return -1;
            out[o++] = 0;
        }
    }
    return (long)o;
}

size_t frame_encode(uint8_t kind, uint16_t seq, const uint8_t *payload, size_t len, uint8_t *out, size_t cap) {
    static uint8_t raw[FRAME_MAX_DECODED];
    if (len > FRAME_MAX_PAYLOAD) return 0;
    raw[0] = FRAME_VERSION;
    raw[1] = kind;
    raw[2] = (uint8_t)(seq & 0xff);
    raw[3] = (uint8_t)(seq >> 8);
    if (len) memcpy(raw + FRAME_HEADER, payload, len);
    uint32_t crc = frame_crc32(raw, FRAME_HEADER + len);
    for (int k = 0; k < 4; k++) raw[FRAME_HEADER + len + (size_t)k] = (uint8_t)(crc >> (8 * k));
    size_t n = cobs_encode(raw, len + FRAME_OVERHEAD, out, cap);
    if (n == 0 || n >= cap) return 0;
    out[n] = 0;
    return n + 1;
}

int frame_parse(const uint8_t *dec, size_t len, frame_t *f) {
    if (len < FRAME_OVERHEAD) return SERIAL_TOO_SHORT;
    if (len > FRAME_MAX_DECODED) return SERIAL_TOO_LARGE;
    uint32_t want = 0;
    for (int k = 0; k < 4; k++) want |= (uint32_t)dec[len - 4 + (size_t)k] << (8 * k);
    if (frame_crc32(dec, len - 4) != want) return SERIAL_CRC;
    /* The version is checked after the CRC: only an intact frame can speak for its version. */
    if (dec[0] != FRAME_VERSION) return SERIAL_VERSION;
    f->version = dec[0];
    f->kind = dec[1];
    f->seq = (uint16_t)(dec[2] | (dec[3] << 8));
    f->payload = dec + FRAME_HEADER;
    f->payload_len = len - FRAME_OVERHEAD;
    return 0;
}

void frame_rx_init(frame_rx_t *rx) {
    rx->len = 0;
    rx->discarding = false;
}

rx_event_t frame_rx_byte(frame_rx_t *rx, uint8_t byte, frame_t *f, int *code) {
    if (byte != 0) {
        if (rx->discarding) return RX_NONE;
        if (rx->len >= sizeof rx->enc - 1) { /* would exceed FRAME_MAX_ENCODED with its delimiter */
            rx->discarding = true;
            rx->len = 0;
            *code = SERIAL_TOO_LARGE;
            return RX_ERROR;
        }
        rx->enc[rx->len++] = byte;
        return RX_NONE;
    }
    /* Delimiter: whatever came before is one frame candidate; the next byte starts afresh. */
    size_t n = rx->len;
    bool was_discarding = rx->discarding;
    rx->len = 0;
    rx->discarding = false;
    if (was_discarding || n == 0) return RX_NONE; /* the tail of an oversized frame, or an idle 0x00 */
    long d = cobs_decode(rx->enc, n, rx->dec, sizeof rx->dec);
    if (d < 0) {
        *code = SERIAL_COBS;
        return RX_ERROR;
    }
    int rc = frame_parse(rx->dec, (size_t)d, f);
    if (rc != 0) {
        *code = rc;
        return RX_ERROR;
    }
    return RX_FRAME;
}
