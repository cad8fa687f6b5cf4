/* COMMAND: what a gateway may ask of any board (state set, reboot). */
#include "board.h"
#include "ferry_abi.h"
#include "hal.h"
#include "kv_state.h"
#include "serial.h"

/* COMMAND ops: 0x01 state set (key_len u8, key, value), 0x02 reboot (ACK epoch u32). */
void serial_on_command(const frame_t *f) {
    const uint8_t *p = f->payload;
    size_t n = f->payload_len;
    char err[256];
    if (n < 1) {
        serial_nack(f->seq, SERIAL_BAD_PAYLOAD, "command without an op");
        return;
    }
    switch (p[0]) {
    case 0x01: {
        size_t kl = n >= 2 ? p[1] : 0;
        if (n < 2 || kl > n - 2 || !kv_key_valid(p + 2, kl, false) || n - 2 - kl > FERRY_LIMIT_STATE_VALUE_MAX) {
            serial_nack(f->seq, SERIAL_BAD_PAYLOAD, "state set: key 1..%d printable bytes, value <= %d bytes",
                        FERRY_LIMIT_STATE_KEY_MAX, FERRY_LIMIT_STATE_VALUE_MAX);
            return;
        }
        if (kv_set(p + 2, kl, p + 2 + kl, n - 2 - kl) != FERRY_STATUS_OK) {
            serial_nack(f->seq, SERIAL_STATE, "state quota exceeded");
            return;
        }
        serial_ack(f->seq, NULL, 0);
        return;
    }
    case 0x02:
        if (n != 1) break;
        serial_upload_reset();
        if (!board_boot(err, sizeof err)) {
            serial_nack(f->seq, SERIAL_NO_MODULE, "reboot: %s", err);
            return;
        }
        serial_ack_u32(f->seq, board_epoch());
        return;
    default:
        break;
    }
    serial_nack(f->seq, SERIAL_BAD_PAYLOAD, "unknown command op 0x%02x or bad arguments", p[0]);
}
