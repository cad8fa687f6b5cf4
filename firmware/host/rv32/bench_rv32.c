/* The rv32 board's figures for bench/mcu.ts: retired instructions (minstret, exact under QEMU's
 * -icount) of runtime start + load + instantiate + boot(), and of each thermostat tick (read, decide,
 * build and sign the envelope, emit it on the UART), state persistence off as in posix/bench_posix.c;
 * and memory high-water marks: WAMR's pool, the heap (linear memory, module images), the stack.
 * Prints one JSON line on QEMU's stdout. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "crypto.h"
#include "hal.h"
#include "hal_test.h"
#include "hal_rv32.h"
#include "kv_state.h"
#include "rv32_mem.h"
#include "sim_posix.h"
#include "virt.h"

extern char __heap_start[], __heap_end[], __stack[], __stack_size[]; /* picolibc.ld */
extern char __data_start[], __bss_end[];

#define STACK_PAINT 0xa5u

static char *brk_now = __heap_start, *brk_peak = __heap_start, *brk_base = __heap_start;

/* picolibc's malloc takes memory from sbrk: this one stops at __heap_end and records its peak. */
void *sbrk(ptrdiff_t incr) {
    if (incr > __heap_end - brk_now || incr < __heap_start - brk_now) return (void *)-1;
    char *old = brk_now;
    brk_now += incr;
    if (brk_now > brk_peak) brk_peak = brk_now;
    return old;
}

uint32_t rv32_mem_heap_peak(void) { return (uint32_t)(brk_peak - brk_base); }

static uint8_t *stack_bottom(void) { return (uint8_t *)(__stack - (uintptr_t)__stack_size); }

void rv32_mem_paint_stack(void) {
    uintptr_t sp;
    __asm__ volatile("mv %0, sp" : "=r"(sp));
    /* Everything below this frame, less a margin. */
    for (volatile uint8_t *p = stack_bottom(); (uintptr_t)p < sp - 256; p++) *p = STACK_PAINT;
}

uint32_t rv32_mem_stack_used(void) {
    const uint8_t *p = stack_bottom();
    while (p < (const uint8_t *)__stack && *p == STACK_PAINT) p++;
    return (uint32_t)((const uint8_t *)__stack - p);
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int rv32_bench(uint32_t ticks, const board_config_t *bc) {
    /* The figures live on the heap, below everything the board allocates: not counted in its peak. */
    uint64_t *per = malloc(sizeof(uint64_t) * (ticks ? ticks : 1));
    if (!per) {
        fprintf(stderr, "bench: no memory for %lu tick figures\n", (unsigned long)ticks);
        return 1;
    }
    brk_base = brk_peak = brk_now;
    /* HMAC-SHA256 alone, over a typical signing input (header.body of a telemetry token, ~300 bytes). */
    uint8_t input[300], mac[32];
    for (unsigned i = 0; i < sizeof input; i++) input[i] = (uint8_t)('A' + i % 26);
    uint64_t h0 = rv32_instret();
    ferry_hmac_sha256(input, 32, input, sizeof input, mac);
    uint64_t hmac = rv32_instret() - h0;
    static const uint8_t key[32] = { 1, 4, 7, 10, 13, 16, 19, 22, 25, 28, 31, 34, 37, 40, 43, 46,
                                     49, 52, 55, 58, 61, 64, 67, 70, 73, 76, 79, 82, 85, 88, 91, 94 }; /* i * 3 + 1, as bench_posix.c */
    sim_set_key(key, sizeof key);
    kv_set_persist(false);
    board_config_t cfg = *bc;
    cfg.fuel = 0;
    cfg.test_control = true;
    char err[256];
    uint64_t t0 = rv32_instret();
    if (!board_init(&cfg, err, sizeof err) || !board_boot(err, sizeof err)) {
        fprintf(stderr, "bench: %s\n", err);
        return 1;
    }
    uint64_t boot = rv32_instret() - t0;
    const board_app_t *a = board_app();
    uint32_t msgs0 = board_messages_emitted();
    for (uint32_t i = 0; i < ticks; i++) {
        int32_t res;
        hal_test_advance(10000);
        uint64_t s = rv32_instret();
        if (!board_tick(&res, err, sizeof err)) {
            fprintf(stderr, "bench: tick: %s\n", err);
            return 1;
        }
        per[i] = rv32_instret() - s;
    }
    uint32_t msgs = board_messages_emitted() - msgs0;
    qsort(per, ticks, sizeof per[0], cmp_u64);
    mem_alloc_info_t info;
    wasm_runtime_get_mem_alloc_info(&info);
    wasm_memory_inst_t mem = wasm_runtime_get_default_memory(a->m.inst);
    uint64_t linear = mem ? wasm_memory_get_cur_page_count(mem) * wasm_memory_get_bytes_per_page(mem) : 0;
    static char json[1024];
    snprintf(json, sizeof json, "{\"interp\":\"%s\",\"ticks\":%lu,\"messages\":%lu,\"boot_instructions\":%llu,\"tick_instructions_median\":%llu,"
           "\"tick_instructions_p99\":%llu,\"hmac300_instructions\":%llu,\"tick_instructions_min\":%llu,\"tick_instructions_max\":%llu,"
           "\"pool_size\":%lu,\"pool_used\":%lu,\"pool_peak\":%lu,\"pool_module\":%lu,\"pool_instance\":%lu,\"pool_exec_env\":%lu,"
           "\"pool_runtime\":%lu,\"linear_memory\":%llu,\"module_size\":%lu,\"heap_peak\":%lu,\"heap_size\":%lu,"
           "\"stack_peak\":%lu,\"stack_size\":%lu,\"static_ram\":%lu,\"wasm_stack\":%lu}\n",
           FERRY_FAST_INTERP ? "fast" : "classic", (unsigned long)ticks, (unsigned long)msgs, (unsigned long long)boot,
           (unsigned long long)per[ticks / 2], (unsigned long long)per[(ticks * 99) / 100], (unsigned long long)hmac, (unsigned long long)per[0],
           (unsigned long long)per[ticks - 1], (unsigned long)info.total_size,
           (unsigned long)(info.total_size - info.total_free_size), (unsigned long)info.highmark_size,
           (unsigned long)(a->m.pool_loaded - a->m.pool_before), (unsigned long)(a->m.pool_instantiated - a->m.pool_loaded),
           (unsigned long)(a->m.pool_ready - a->m.pool_instantiated), (unsigned long)a->m.pool_before,
           (unsigned long long)linear, (unsigned long)a->size, (unsigned long)rv32_mem_heap_peak(),
           (unsigned long)(__heap_end - __heap_start), (unsigned long)rv32_mem_stack_used(), (unsigned long)(uintptr_t)__stack_size,
           (unsigned long)(__bss_end - __data_start), (unsigned long)cfg.stack_size);
    rv32_stdout(json);
    board_destroy();
    free(per);
    return 0;
}
