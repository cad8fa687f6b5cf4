/* Module upload by hash ("OTA by hash", docs/serial-protocol.md §Upload): BEGIN(size, sha256) ->
 * CHUNK(offset, bytes)* in order -> COMMIT. The bytes go to the slot that is not running; the board
 * swaps only when the SHA-256 matches AND the module instantiates with matching imports and ABI
 * version AND its boot() succeeds. Until then the running module is untouched, and the boot record
 * (board_activate_slot) still names it, so a power cut at any point boots the old module. */
#include <string.h>

#include "board.h"
#include "crypto.h"
#include "hal.h"
#include "serial.h"

static struct {
    bool active;
    int slot;
    uint32_t size, received;
    uint8_t sha[32];
    ferry_sha256_ctx *hash;
} up;

void serial_upload_reset(void) {
    if (!up.active) return;
    hal_slot_close(up.slot, false);
    ferry_sha256_end(up.hash, NULL);
    memset(&up, 0, sizeof up);
}

void serial_on_upload_begin(const frame_t *f) {
    if (f->payload_len != 36) {
        serial_nack(f->seq, SERIAL_BAD_PAYLOAD, "upload begin: size u32 + sha256[32]");
        return;
    }
    serial_upload_reset(); /* a new BEGIN abandons an unfinished upload */
    uint32_t size = serial_le32(f->payload);
    if (size == 0 || size > hal_slot_capacity()) {
        serial_nack(f->seq, SERIAL_UPLOAD_SIZE, "module size %u outside 1..%u", (unsigned)size, (unsigned)hal_slot_capacity());
        return;
    }
    int slot = board_upload_slot();
    up.hash = ferry_sha256_begin();
    if (!up.hash || !hal_slot_open(slot, size)) {
        ferry_sha256_end(up.hash, NULL);
        up.hash = NULL;
        serial_nack(f->seq, SERIAL_STORAGE, "cannot open slot %d", slot);
        return;
    }
    up.active = true;
    up.slot = slot;
    up.size = size;
    up.received = 0;
    memcpy(up.sha, f->payload + 4, 32);
    serial_ack_u32(f->seq, (uint32_t)slot);
}

void serial_on_upload_chunk(const frame_t *f) {
    if (!up.active) {
        serial_nack(f->seq, SERIAL_UPLOAD_NOT_STARTED, "no upload in progress");
        return;
    }
    if (f->payload_len < 5) {
        serial_nack(f->seq, SERIAL_BAD_PAYLOAD, "upload chunk: offset u32 + at least one byte");
        return;
    }
    uint32_t off = serial_le32(f->payload), n = (uint32_t)(f->payload_len - 4);
    if (off != up.received) { /* chunks arrive in order; the ACK of the last good one says where to resume */
        serial_nack(f->seq, SERIAL_UPLOAD_OFFSET, "expected offset %u, got %u", (unsigned)up.received, (unsigned)off);
        return;
    }
    if (n > up.size - up.received) {
        serial_nack(f->seq, SERIAL_UPLOAD_SIZE, "chunk passes the announced size %u", (unsigned)up.size);
        return;
    }
    if (!hal_slot_write(up.slot, off, f->payload + 4, n) || !ferry_sha256_update(up.hash, f->payload + 4, n)) {
        serial_nack(f->seq, SERIAL_STORAGE, "writing slot %d failed", up.slot);
        serial_upload_reset();
        return;
    }
    up.received += n;
    serial_ack_u32(f->seq, up.received);
}

void serial_on_upload_commit(const frame_t *f) {
    char err[256] = "";
    if (!up.active) {
        serial_nack(f->seq, SERIAL_UPLOAD_NOT_STARTED, "no upload in progress");
        return;
    }
    if (f->payload_len != 0) {
        serial_nack(f->seq, SERIAL_BAD_PAYLOAD, "upload commit takes no payload");
        return;
    }
    if (up.received != up.size) {
        serial_nack(f->seq, SERIAL_UPLOAD_INCOMPLETE, "received %u of %u bytes", (unsigned)up.received, (unsigned)up.size);
        serial_upload_reset();
        return;
    }
    uint8_t got[32];
    bool hashed = ferry_sha256_end(up.hash, got);
    up.hash = NULL;
    int slot = up.slot;
    uint32_t size = up.size;
    if (!hashed || memcmp(got, up.sha, 32) != 0) {
        serial_nack(f->seq, SERIAL_UPLOAD_HASH, "SHA-256 of the received bytes differs from the announced one");
        serial_upload_reset();
        return;
    }
    up.active = false;
    uint8_t *bin;
    if (!hal_slot_close(slot, true) || !hal_slot_read(slot, size, &bin)) {
        serial_nack(f->seq, SERIAL_STORAGE, "cannot store slot %d", slot);
        return;
    }
    board_app_t cand;
#if FERRY_VALIDATE_IN_PLACE
    /* A board without RAM for two instances at once (an ESP32 without PSRAM: see docs/flashing.md) drops
     * the running one first and, if the candidate is refused, boots the old one again from its boot
     * record: a new instantiation, so a new epoch. */
    board_stop();
#endif
    if (!board_candidate(bin, size, slot, &cand, err, sizeof err)) {
        serial_nack(f->seq, SERIAL_UPLOAD_REJECTED, "%s", err);
#if FERRY_VALIDATE_IN_PLACE
        char e2[256];
        if (!board_boot(e2, sizeof e2)) hal_log(HAL_LOG_ERROR, "restoring the previous module failed: %s", e2);
#endif
        return;
    }
    if (!board_swap(&cand, err, sizeof err)) {
        serial_nack(f->seq, SERIAL_UPLOAD_REJECTED, "boot failed: %s", err);
        return;
    }
    /* Only now does the boot record name the new slot: a power cut before this line boots the old. */
    if (!board_activate_slot(slot, size, got)) {
        serial_nack(f->seq, SERIAL_STORAGE, "module runs but the boot record was not written: the old module boots next time");
        return;
    }
    serial_ack_u32(f->seq, board_epoch());
}
