/* HELLO -> INFO: who the board is and what it runs (docs/serial-protocol.md §Kinds). */
#include <string.h>

#include "board.h"
#include "ferry_abi.h"
#include "hal.h"
#include "serial.h"
#include "wasm_export.h"

/* INFO: abi u16, epoch u32, free pool bytes u32, module size u32, module sha256[32], flags u8
 * (bit0 test control, bit1 virtual clock, bit2 a module is running), id_len u8, id. */
void serial_on_hello(const frame_t *f) {
    if (f->payload_len != 0) {
        serial_nack(f->seq, SERIAL_BAD_PAYLOAD, "hello takes no payload");
        return;
    }
    const board_app_t *a = board_app();
    const board_config_t *c = board_config();
    uint8_t p[2 + 4 + 4 + 4 + 32 + 1 + 1 + FERRY_LIMIT_DEVICE_ID_MAX];
    size_t n = 0;
    p[n++] = FERRY_ABI_VERSION & 0xff;
    p[n++] = FERRY_ABI_VERSION >> 8;
    serial_put32(p + n, board_epoch());
    n += 4;
    mem_alloc_info_t info;
    serial_put32(p + n, wasm_runtime_get_mem_alloc_info(&info) ? info.total_free_size : 0);
    n += 4;
    serial_put32(p + n, a->live ? a->size : 0);
    n += 4;
    if (a->live) memcpy(p + n, a->sha, 32);
    else memset(p + n, 0, 32);
    n += 32;
    p[n++] = (uint8_t)((c->test_control ? 1 : 0) | (c->virtual_clock ? 2 : 0) | (a->live && !a->dead ? 4 : 0));
    const char *id = hal_device_id();
    size_t idn = strlen(id);
    if (idn > FERRY_LIMIT_DEVICE_ID_MAX) idn = FERRY_LIMIT_DEVICE_ID_MAX;
    p[n++] = (uint8_t)idn;
    memcpy(p + n, id, idn);
    n += idn;
    serial_send(FRAME_INFO, f->seq, p, n);
}
