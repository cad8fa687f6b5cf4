/* `ferry-board bench MODULE [TICKS] [RUNS]`: times the thermostat's tick (read, decide, build and sign
 * the envelope through dev.sign = mbedTLS HMAC-SHA256, emit) on this WAMR build, in-process on the
 * virtual clock with state persistence off (the disk is not what is measured), and reports WAMR's
 * memory for runtime + instance. One line of JSON on stdout; bench/board.ts runs it next to V8. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "board.h"
#include "hal.h"
#include "hal_test.h"
#include "kv_state.h"
#include "sim_posix.h"
#include "store_posix.h"

extern int hal_log_threshold;

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int board_bench_main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: ferry-board bench MODULE.wasm [TICKS=2000] [RUNS=7]\n");
        return 2;
    }
    long ticks = argc > 2 ? strtol(argv[2], NULL, 10) : 2000, runs = argc > 3 ? strtol(argv[3], NULL, 10) : 7;
    if (ticks < 1 || ticks > 10000000 || runs < 1 || runs > 99) return 2;
    char dir[] = "/tmp/ferry-bench-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    setenv("FERRY_STATE_DIR", dir, 1);
    hal_log_threshold = HAL_LOG_ERROR;
    sim_config_t sim;
    sim_defaults(&sim);
    sim_configure(&sim);
    uint8_t key[32];
    for (int i = 0; i < 32; i++) key[i] = (uint8_t)(i * 3 + 1);
    sim_set_key(key, sizeof key);
    store_set_factory(argv[1]);
    kv_set_persist(false);

    char err[512];
    board_config_t cfg = { .stack_size = 8192, .fuel = 0, .test_control = true, .virtual_clock = true };
    double t0 = now_ns();
    if (!board_init(&cfg, err, sizeof err) || !board_boot(err, sizeof err)) {
        fprintf(stderr, "bench: %s\n", err);
        return 1;
    }
    double boot_ns = now_ns() - t0; /* runtime init + load + instantiate + boot() incl. the signed boot message */
    uint32_t pool_used = ferry_pool_used();
    const board_app_t *a = board_app();
    wasm_memory_inst_t mem = wasm_runtime_get_default_memory(a->m.inst);
    uint64_t linear = mem ? wasm_memory_get_cur_page_count(mem) * wasm_memory_get_bytes_per_page(mem) : 0;

    double per[99];
    uint32_t m0 = board_messages_emitted();
    for (long r = 0; r < runs; r++) {
        double s = now_ns();
        for (long i = 0; i < ticks; i++) {
            int32_t res;
            hal_test_advance(10000);
            if (!board_tick(&res, err, sizeof err)) {
                fprintf(stderr, "bench: tick: %s\n", err);
                return 1;
            }
        }
        per[r] = (now_ns() - s) / (double)ticks;
    }
    double msgs_per_tick = (double)(board_messages_emitted() - m0) / (double)(ticks * runs);
    qsort(per, (size_t)runs, sizeof per[0], cmp_double);
    printf("{\"interp\":\"%s\",\"ticks\":%ld,\"runs\":%ld,\"median_ns_per_tick\":%.0f,\"min_ns_per_tick\":%.0f,"
           "\"messages_per_tick\":%.4f,\"boot_ns\":%.0f,\"pool_used\":%u,\"pool_module\":%u,\"pool_instance\":%u,"
           "\"pool_exec_env\":%u,\"pool_runtime\":%u,\"linear_memory\":%llu,\"stack\":%u}\n",
           FERRY_FAST_INTERP ? "fast" : "classic", ticks, runs, per[runs / 2], per[0], msgs_per_tick, boot_ns,
           (unsigned)pool_used, (unsigned)(a->m.pool_loaded - a->m.pool_before),
           (unsigned)(a->m.pool_instantiated - a->m.pool_loaded), (unsigned)(a->m.pool_ready - a->m.pool_instantiated),
           (unsigned)a->m.pool_before, (unsigned long long)linear, (unsigned)cfg.stack_size);
    board_destroy();
    char path[64];
    const char *files[] = { "epoch", "epoch.tmp", "state", "state.tmp" };
    for (unsigned i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}
