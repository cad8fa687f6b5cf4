/* The rv32 board's main: reads its provisioning from flash (flash_rv32.h), configures the simulated
 * room exactly like the posix board (posix/sim_posix.c) and runs one of three modes:
 *   serve  the board: the serial protocol (docs/serial-protocol.md) on the UART, ticks on the CLINT
 *          in real-time mode (tick_ms), else only on test-control frames (virtual clock)
 *   call   one-shot: load the factory module, call one export with i32 arguments, print the results
 *          (the posix `ferry-board MODULE EXPORT ARGS`), exit status as there
 *   bench  instruction counts of boot and ticks, memory high-water marks: one JSON line (bench/mcu.ts)
 * Output other than the UART goes through semihosting to QEMU's stdout/stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "flash_rv32.h"
#include "hal.h"
#include "hal_rv32.h"
#include "kv_state.h"
#include "mcu.h"
#include "rv32_mem.h"
#include "sim_posix.h"

typedef struct {
    char mode[8];
    uint32_t tick_ms, factory_size, bench_ticks;
    bool autoboot;
    char call_export[64], call_args[256];
} rv32_config_t;

static int hexval(int c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; }

/* One "name value" line of the provisioning text; false for an unknown name or a bad value. */
static bool apply(const char *name, const char *v, rv32_config_t *rc, sim_config_t *sim, board_config_t *bc) {
    char *end;
    double d = strtod(v, &end);
    bool num = *v && !*end;
    if (!strcmp(name, "mode")) return snprintf(rc->mode, sizeof rc->mode, "%s", v) < (int)sizeof rc->mode;
    if (!strcmp(name, "device_id")) {
        size_t n = strlen(v);
        return n >= 1 && n <= 32 && strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n &&
               snprintf(sim->device_id, sizeof sim->device_id, "%s", v) > 0;
    }
    if (!strcmp(name, "key")) {
        uint8_t k[64];
        size_t n = strlen(v);
        if (n % 2 || n / 2 < 32 || n / 2 > sizeof k) return false;
        for (size_t i = 0; i < n / 2; i++) {
            int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);
            if (hi < 0 || lo < 0) return false;
            k[i] = (uint8_t)(hi << 4 | lo);
        }
        sim_set_key(k, (unsigned)(n / 2));
        return true;
    }
    if (!strcmp(name, "call_export")) return snprintf(rc->call_export, sizeof rc->call_export, "%s", v) < (int)sizeof rc->call_export;
    if (!strcmp(name, "out_path")) {
        rv32_set_out_path(v);
        return true;
    }
    if (!strcmp(name, "call_args")) return snprintf(rc->call_args, sizeof rc->call_args, "%s", v) < (int)sizeof rc->call_args;
    if (!num) return false;
    if (!strcmp(name, "seed")) sim->seed = (uint32_t)d;
    else if (!strcmp(name, "start_ms")) sim->start_ms = (int64_t)d;
    else if (!strcmp(name, "room_initial")) sim->room.initial_c = d;
    else if (!strcmp(name, "room_outside")) sim->room.outside_c = d;
    else if (!strcmp(name, "room_loss")) sim->room.loss_per_s = d;
    else if (!strcmp(name, "room_heat")) sim->room.heat_c_per_s = d;
    else if (!strcmp(name, "room_noise")) sim->room.noise_c = d;
    else if (!strcmp(name, "tick_ms")) rc->tick_ms = (uint32_t)d;
    else if (!strcmp(name, "autoboot")) rc->autoboot = d != 0;
    else if (!strcmp(name, "test_control")) bc->test_control = d != 0;
    else if (!strcmp(name, "quiet")) hal_log_threshold = d != 0 ? HAL_LOG_WARN : HAL_LOG_DEBUG;
    else if (!strcmp(name, "stack")) bc->stack_size = (uint32_t)d;
    else if (!strcmp(name, "fuel")) bc->fuel = (int32_t)d;
    else if (!strcmp(name, "factory_size")) rc->factory_size = (uint32_t)d;
    else if (!strcmp(name, "bench_ticks")) rc->bench_ticks = (uint32_t)d;
    else return false;
    return true;
}

static bool read_config(rv32_config_t *rc, sim_config_t *sim, board_config_t *bc) {
    static char text[2048];
    flash_config_text(text, sizeof text);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *sp = strchr(line, ' ');
        if (!sp) continue;
        *sp = 0;
        if (!apply(line, sp + 1, rc, sim, bc)) {
            hal_log(HAL_LOG_ERROR, "provisioning: bad line '%s %s'", line, sp + 1);
            return false;
        }
    }
    return true;
}

static _Noreturn void serve(const rv32_config_t *rc) {
    char err[256];
    if (rc->autoboot && !board_boot(err, sizeof err)) hal_log(HAL_LOG_ERROR, "boot: %s (waiting for an upload)", err);
    const uint64_t per_ms = VIRT_CLINT_HZ / 1000u, idle = 100u * per_ms;
    uint64_t next_tick = rv32_mtime() + rc->tick_ms * per_ms, last_step = rv32_mtime();
    uint8_t buf[256];
    for (;;) {
        rv32_irq_ack();
        size_t n;
        while ((n = rv32_uart_read(buf, sizeof buf)) > 0) board_feed(buf, n);
        uint64_t now = rv32_mtime();
        if (rc->tick_ms && now >= next_tick) {
            sim_realtime_step((uint32_t)((now - last_step) / per_ms));
            last_step = now;
            next_tick += rc->tick_ms * per_ms;
            if (next_tick < now) next_tick = now + rc->tick_ms * per_ms;
            mcu_tick();
        }
        /* The idle wake-up only guards against a missed edge; the UART interrupt is what wakes us. */
        rv32_wait(rc->tick_ms ? next_tick : rv32_mtime() + idle);
    }
}

/* The posix one-shot runner's contract for i32 exports: results on stdout, 1 host error, 2 usage, 3 trap. */
static int call(const rv32_config_t *rc, const board_config_t *bc) {
    char err[512];
    uint8_t *bin;
    uint32_t size;
    ferry_module_t m;
    ferry_func_t f;
    wasm_val_t args[FERRY_MAX_VALUES], results[FERRY_MAX_VALUES];
    if (!ferry_runtime_init(err, sizeof err)) {
        hal_log(HAL_LOG_ERROR, "%s", err);
        return 1;
    }
    if (!hal_factory_module(&bin, &size) || !ferry_module_load(&m, bin, size, bc->stack_size, 0, err, sizeof err) ||
        !ferry_find_export(&m, rc->call_export, &f, err, sizeof err)) {
        hal_log(HAL_LOG_ERROR, "module: %s", err);
        return 1;
    }
    uint32_t nargs = 0;
    static char text[256];
    snprintf(text, sizeof text, "%s", rc->call_args);
    for (char *a = strtok(text, " "); a; a = strtok(NULL, " ")) {
        char *end;
        long long v = strtoll(a, &end, 0);
        if (nargs >= f.param_count || *end || f.params[nargs] != WASM_I32 || v < INT32_MIN || v > (long long)UINT32_MAX) {
            hal_log(HAL_LOG_ERROR, "argument %u '%s' is not a valid i32 (or too many arguments)", (unsigned)nargs + 1, a);
            return 2;
        }
        args[nargs++] = (wasm_val_t){ .kind = WASM_I32, .of.i32 = (int32_t)v };
    }
    if (nargs != f.param_count) {
        hal_log(HAL_LOG_ERROR, "'%s' takes %u argument(s), got %u", rc->call_export, (unsigned)f.param_count, (unsigned)nargs);
        return 2;
    }
    ferry_limits_t limits = { .fuel = bc->fuel, .timeout_ms = 0 };
    if (!ferry_call(&m, &f, args, results, &limits, err, sizeof err)) {
        hal_log(HAL_LOG_ERROR, "%s trapped: %s", rc->call_export, err);
        return 3;
    }
    for (uint32_t r = 0; r < f.result_count; r++) {
        char line[32];
        if (results[r].kind == WASM_I32) snprintf(line, sizeof line, "%ld\n", (long)results[r].of.i32);
        else snprintf(line, sizeof line, "<%s>\n", ferry_valkind_name(results[r].kind));
        rv32_stdout(line);
    }
    ferry_report_memory(&m);
    return 0;
}

int main(void) {
    rv32_uart_init(); /* first: the gateway may already be talking (QEMU holds what comes before) */
    rv32_mem_paint_stack();
    rv32_config_t rc = { .mode = "serve", .autoboot = true };
    sim_config_t sim;
    sim_defaults(&sim);
    board_config_t bc = { .stack_size = 8192, .max_pages = 0, .fuel = 100000000, .test_control = false, .virtual_clock = true };
    if (!read_config(&rc, &sim, &bc)) return 1;
    flash_set_factory_size(rc.factory_size);
    if (rc.tick_ms) {
        sim.virtual_clock = false;
        bc.virtual_clock = false;
        rc.autoboot = true;
    }
    rv32_set_wall_start(sim.start_ms);
    sim_configure(&sim);
    if (!strcmp(rc.mode, "call")) return call(&rc, &bc);
    if (!strcmp(rc.mode, "bench")) return rv32_bench(rc.bench_ticks ? rc.bench_ticks : 200, &bc);
    char err[256];
    if (!board_init(&bc, err, sizeof err)) {
        hal_log(HAL_LOG_ERROR, "%s", err);
        return 1;
    }
    serve(&rc);
}
