/* Test control (FRAME_TEST), for the posix board only and only with --test-control: what the ABI
 * conformance suite and hw-tests need to drive a board deterministically (docs/serial-protocol.md
 * §Test control). A board built without FERRY_TEST_CONTROL (the ESP32) refuses every op. */
#include <string.h>

#include "board.h"
#include "hal.h"
#include "serial.h"

#if FERRY_TEST_CONTROL
#include "hal_test.h"

/* Ops: 0x01 boot -> epoch u32; 0x02 tick(ms u32) -> result i32; 0x03 advance(ms u32);
 * 0x04 sensor(mode u8: 0 room, 1 value, 2 fault; value i32); 0x05 furnace -> u8; 0x06 abi version -> i32. */
void serial_on_test(const frame_t *f) {
    const uint8_t *p = f->payload;
    size_t n = f->payload_len;
    char err[256] = "";
    int32_t r = 0;
    if (!board_config()->test_control) {
        serial_nack(f->seq, SERIAL_NOT_SUPPORTED, "test control is off (start the board with --test-control)");
        return;
    }
    switch (n ? p[0] : 0) {
    case 0x01:
        if (n != 1) break;
        serial_upload_reset();
        if (!board_boot(err, sizeof err)) serial_nack(f->seq, SERIAL_NO_MODULE, "boot: %s", err);
        else serial_ack_u32(f->seq, board_epoch());
        return;
    case 0x02:
        if (n != 5) break;
        hal_test_advance(serial_le32(p + 1));
        if (!board_tick(&r, err, sizeof err)) serial_nack(f->seq, board_app()->live ? SERIAL_MODULE_TRAP : SERIAL_NO_MODULE, "tick: %s", err);
        else serial_ack_u32(f->seq, (uint32_t)r);
        return;
    case 0x03:
        if (n != 5) break;
        hal_test_advance(serial_le32(p + 1));
        serial_ack(f->seq, NULL, 0);
        return;
    case 0x04:
        if (n != 6 || p[1] > 2) break;
        hal_test_sensor(p[1], (int32_t)serial_le32(p + 2));
        serial_ack(f->seq, NULL, 0);
        return;
    case 0x05: {
        if (n != 1) break;
        uint8_t on = (uint8_t)(hal_actuator_get(0) ? 1 : 0);
        serial_ack(f->seq, &on, 1);
        return;
    }
    case 0x06:
        if (n != 1) break;
        if (!board_abi_version(&r, err, sizeof err)) serial_nack(f->seq, SERIAL_NO_MODULE, "abi_version: %s", err);
        else serial_ack_u32(f->seq, (uint32_t)r);
        return;
    default:
        break;
    }
    serial_nack(f->seq, SERIAL_BAD_PAYLOAD, "unknown test op 0x%02x or bad arguments", n ? p[0] : 0);
}
#else
void serial_on_test(const frame_t *f) { serial_nack(f->seq, SERIAL_NOT_SUPPORTED, "this board has no test control"); }
#endif
