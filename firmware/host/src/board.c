/* The board driver (see board.h). */
#include "board.h"

#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "ferry_abi.h"
#include "frame.h"
#include "hal.h"
#include "kv_state.h"
#include "natives.h"
#include "serial.h"

static board_config_t config;
static board_app_t app;
static uint32_t epoch;

/* Boot record: which slot to run. Written only after a module passed every check (board_swap). */
typedef struct {
    uint8_t magic[4]; /* "FBR1" */
    uint8_t slot;
    uint8_t size[4]; /* LE */
    uint8_t sha[32];
} boot_record_t;

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }

const board_app_t *board_app(void) { return &app; }
const board_config_t *board_config(void) { return &config; }
uint32_t board_epoch(void) { return epoch; }

bool board_init(const board_config_t *cfg, char *err, size_t err_size) {
    config = *cfg;
    memset(&app, 0, sizeof app);
    app.slot = -1;
    uint8_t e[4];
    epoch = hal_persist_read("epoch", e, sizeof e) == 4 ? le32(e) : 0;
    kv_load();
    return ferry_runtime_init(err, err_size);
}

void board_destroy(void) {
    if (app.live) ferry_module_unload(&app.m);
    app.live = false;
    ferry_runtime_destroy();
}

/* The epoch is persisted BEFORE the instance exists (docs/abi.md): a power cut after this point wastes
 * an epoch, never reuses one. */
static bool next_epoch(char *err, size_t err_size) {
    uint8_t e[4];
    put32(e, epoch + 1);
    if (!hal_persist_write("epoch", e, sizeof e)) {
        snprintf(err, err_size, "cannot persist the boot epoch: refusing to instantiate");
        return false;
    }
    epoch++;
    return true;
}

static bool export_ok(board_app_t *a, const char *name, ferry_func_t *f, uint32_t params, char *err, size_t err_size) {
    if (!ferry_find_export(&a->m, name, f, err, err_size)) return false;
    bool ok = f->param_count == params && f->result_count == 1 && f->results[0] == WASM_I32;
    for (uint32_t i = 0; i < f->param_count; i++) ok = ok && f->params[i] == WASM_I32;
    if (!ok) snprintf(err, err_size, "export %s has the wrong signature", name);
    return ok;
}

static bool call(board_app_t *a, const ferry_func_t *f, wasm_val_t *args, int32_t *result, char *err, size_t err_size) {
    wasm_val_t res[FERRY_MAX_VALUES];
    ferry_limits_t limits = { .fuel = config.fuel, .timeout_ms = 0 };
    if (!ferry_call(&a->m, f, args, res, &limits, err, err_size)) {
        a->dead = true;
        return false;
    }
    *result = res[0].of.i32;
    return true;
}

/* Load + import check + exports + abi_version(). With check_version false a mismatching version is
 * returned in *version instead of refused (board_abi_version). Takes ownership of binary. */
static bool instantiate(uint8_t *binary, uint32_t size, int slot, board_app_t *out, bool with_epoch, bool check_version,
                        int32_t *version, char *err, size_t err_size) {
    memset(out, 0, sizeof *out);
    out->slot = slot;
    out->size = size;
    if (!ferry_sha256(binary, size, out->sha) || (with_epoch && !next_epoch(err, err_size))) {
        if (!err[0]) snprintf(err, err_size, "sha256 failed");
        hal_free_file(binary);
        return false;
    }
    if (!ferry_module_load(&out->m, binary, size, config.stack_size, config.max_pages, err, err_size)) return false;
    out->live = true;
    int32_t v = 0;
    bool ok = export_ok(out, "abi_version", &out->abi_version, 0, err, err_size) &&
              export_ok(out, "boot", &out->boot, 1, err, err_size) && export_ok(out, "tick", &out->tick, 0, err, err_size) &&
              call(out, &out->abi_version, NULL, &v, err, err_size);
    if (ok) {
        /* Optional: a module without it takes no commands; with it, the table's signature (i32)i32. */
        char ignored[128];
        out->has_command = ferry_find_export(&out->m, "command", &out->command, ignored, sizeof ignored);
        if (out->has_command) ok = export_ok(out, "command", &out->command, 1, err, err_size);
    }
    if (ok && version) *version = v;
    if (ok && check_version && v != FERRY_ABI_VERSION) {
        snprintf(err, err_size, "FERRY_ABI_VERSION: module built for ABI %d, host speaks %d", (int)v, FERRY_ABI_VERSION);
        ok = false;
    }
    if (!ok) {
        ferry_module_unload(&out->m);
        out->live = false;
    }
    return ok;
}

bool board_candidate(uint8_t *binary, uint32_t size, int slot, board_app_t *out, char *err, size_t err_size) {
    err[0] = 0;
    return instantiate(binary, size, slot, out, true, true, NULL, err, err_size);
}

static bool start(char *err, size_t err_size) {
    wasm_val_t arg = { .kind = WASM_I32, .of.i32 = (int32_t)epoch };
    int32_t rc = 0;
    if (!call(&app, &app.boot, &arg, &rc, err, err_size)) return false;
    if (rc < 0) {
        snprintf(err, err_size, "boot(%u) returned %d", (unsigned)epoch, (int)rc);
        app.dead = true;
        return false;
    }
    return true;
}

/* Loads the module the board should run: the active slot if its record, size and hash check out,
 * else the factory module. */
static bool load_image(uint8_t **bin, uint32_t *size, int *slot, uint8_t want_sha[32], bool *from_slot) {
    boot_record_t r;
    *from_slot = false;
    if (hal_persist_read("boot", &r, sizeof r) == (long)sizeof r && memcmp(r.magic, "FBR1", 4) == 0 && r.slot < HAL_SLOT_COUNT &&
        le32(r.size) <= hal_slot_capacity() && hal_slot_read(r.slot, le32(r.size), bin)) {
        *size = le32(r.size);
        *slot = r.slot;
        memcpy(want_sha, r.sha, 32);
        *from_slot = true;
        return true;
    }
    *slot = -1;
    return hal_factory_module(bin, size);
}

bool board_boot(char *err, size_t err_size) {
    err[0] = 0;
    if (app.live) ferry_module_unload(&app.m);
    memset(&app, 0, sizeof app);
    app.slot = -1;
    hal_on_boot();
    uint8_t *bin;
    uint32_t size;
    uint8_t want[32];
    int slot;
    bool from_slot;
    if (!load_image(&bin, &size, &slot, want, &from_slot)) {
        snprintf(err, err_size, "no module: none uploaded and no factory module");
        return false;
    }
    if (from_slot) {
        uint8_t got[32];
        bool hash_ok = ferry_sha256(bin, size, got) && memcmp(got, want, 32) == 0;
        if (!hash_ok) hal_free_file(bin);
        if (hash_ok && instantiate(bin, size, slot, &app, true, true, NULL, err, err_size)) return start(err, err_size);
        hal_log(HAL_LOG_ERROR, "slot %d does not boot (%s): falling back to the factory module", slot, err[0] ? err : "hash mismatch");
        err[0] = 0;
        if (!hal_factory_module(&bin, &size)) {
            snprintf(err, err_size, "slot %d does not boot and there is no factory module", slot);
            return false;
        }
        slot = -1;
    }
    if (!instantiate(bin, size, slot, &app, true, true, NULL, err, err_size)) return false;
    return start(err, err_size);
}

void board_stop(void) {
    if (app.live) ferry_module_unload(&app.m);
    memset(&app, 0, sizeof app);
    app.slot = -1;
}

bool board_tick(int32_t *result, char *err, size_t err_size) {
    if (!app.live || app.dead) {
        snprintf(err, err_size, "%s", app.live ? "the module trapped earlier: reboot it" : "no module is running");
        return false;
    }
    return call(&app, &app.tick, NULL, result, err, err_size);
}

bool board_command(int32_t verdict, const uint8_t *body, size_t len, int32_t *result, char *err, size_t err_size) {
    if (!app.live || app.dead || !app.has_command) {
        snprintf(err, err_size, "%s", !app.live || app.dead ? "no module is running" : "the module takes no commands");
        return false;
    }
    wasm_val_t arg = { .kind = WASM_I32, .of.i32 = verdict };
    ferry_natives_set_command(body, len);
    bool ok = call(&app, &app.command, &arg, result, err, err_size);
    ferry_natives_set_command(NULL, 0);
    return ok;
}

bool board_abi_version(int32_t *version, char *err, size_t err_size) {
    err[0] = 0;
    if (app.live && !app.dead) return call(&app, &app.abi_version, NULL, version, err, err_size);
    uint8_t *bin, want[32];
    uint32_t size;
    int slot;
    bool from_slot;
    if (!load_image(&bin, &size, &slot, want, &from_slot)) {
        snprintf(err, err_size, "no module");
        return false;
    }
    board_app_t tmp;
    if (!instantiate(bin, size, slot, &tmp, false, false, version, err, err_size)) return false;
    ferry_module_unload(&tmp.m);
    return true;
}

bool board_swap(board_app_t *cand, char *err, size_t err_size) {
    board_app_t old = app;
    app = *cand;
    if (start(err, err_size)) {
        if (old.live) ferry_module_unload(&old.m);
        return true;
    }
    /* The candidate's boot() failed: discard it and bring the previous module back. */
    ferry_module_unload(&app.m);
    app = old; /* board_boot unloads it and boots what the boot record names: still the old module */
    char e2[256];
    if (!board_boot(e2, sizeof e2)) hal_log(HAL_LOG_ERROR, "restoring the previous module failed: %s", e2);
    return false;
}

int board_upload_slot(void) { return app.slot == 0 ? 1 : 0; }

bool board_activate_slot(int slot, uint32_t size, const uint8_t sha[32]) {
    boot_record_t r;
    memcpy(r.magic, "FBR1", 4);
    r.slot = (uint8_t)slot;
    put32(r.size, size);
    memcpy(r.sha, sha, 32);
    return hal_persist_write("boot", &r, sizeof r);
}

/* The serial receiver: every board feeds its UART bytes here (frame.h state machine). */
void board_feed(const uint8_t *data, size_t len) {
    static frame_rx_t rx;
    static bool ready;
    if (!ready) {
        frame_rx_init(&rx);
        ready = true;
    }
    for (size_t i = 0; i < len; i++) {
        frame_t f;
        int code = 0;
        rx_event_t ev = frame_rx_byte(&rx, data[i], &f, &code);
        if (ev == RX_FRAME) serial_dispatch(&f);
        else if (ev == RX_ERROR) serial_rx_error(code);
    }
}

static uint32_t emitted;
uint32_t board_messages_emitted(void) { return emitted; }

void board_emit(const uint8_t *token, size_t len) {
    emitted++;
    serial_send(FRAME_MESSAGE, 0, token, len);
}

void board_module_log(int32_t level, const uint8_t *text, size_t len) {
    hal_log((hal_log_level_t)level, "[wasm] %.*s", (int)len, (const char *)text);
    uint8_t buf[1 + FERRY_LIMIT_LOG_MAX];
    buf[0] = (uint8_t)level;
    memcpy(buf + 1, text, len);
    serial_send(FRAME_LOG, 0, buf, 1 + len);
}
