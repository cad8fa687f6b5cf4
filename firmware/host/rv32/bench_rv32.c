/* The rv32 board's figures for bench/mcu.ts: retired instructions (minstret, exact under QEMU's
 * -icount) of runtime start + load + instantiate + boot(), of each thermostat tick (read, decide,
 * build and sign the envelope, emit it on the UART), state persistence off as in posix/bench_posix.c,
 * and of each signed command (verify the MAC, audience and expiry, persist the replay window, apply it
 * in the module, sign and emit its cmd.ack: command_deliver, docs/actions.md "On the board");
 * and memory high-water marks: WAMR's pool, the heap (linear memory, module images), the stack.
 * Prints one JSON line on QEMU's stdout. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "command.h"
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

/* RFC 4648 §5 without padding: what the cloud's signer writes (docs/message-format.md). */
static size_t b64url(const uint8_t *in, size_t n, char *out) {
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        out[o++] = A[v >> 18 & 63];
        out[o++] = A[v >> 12 & 63];
        if (i + 1 < n) out[o++] = A[v >> 6 & 63];
        if (i + 2 < n) out[o++] = A[v & 63];
    }
    return o;
}

/* One setpoint command as the cloud signs it (docs/message-format.md "Downlink"), sequence number sq, signed
 * with the board's downlink key: the key the cloud derives for it, so it verifies as a real one does. */
static size_t signed_command(uint32_t sq, char *tok, size_t cap) {
    char header[128], body[256];
    int64_t now_s = hal_now_ms() / 1000;
    int hn = snprintf(header, sizeof header, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"ferry-cloud\",\"ep\":1800000000,\"sq\":%lu}", (unsigned long)sq);
    int bn = snprintf(body, sizeof body,
                      "{\"iss\":\"ferry-cloud\",\"aud\":\"%s\",\"ev\":\"cmd\",\"iat\":%lld,\"exp\":%lld,\"d\":{\"id\":\"c-%lu\",\"cmd\":{\"setpoint\":%lu.5}}}",
                      hal_device_id(), (long long)now_s, (long long)now_s + 60, (unsigned long)sq, (unsigned long)(18 + sq % 6));
    if (hn <= 0 || bn <= 0 || (size_t)(hn + bn) * 2 + 64 > cap) return 0;
    size_t n = b64url((const uint8_t *)header, (size_t)hn, tok);
    tok[n++] = '.';
    n += b64url((const uint8_t *)body, (size_t)bn, tok + n);
    uint8_t mac[32];
    if (!hal_downlink_mac((const uint8_t *)tok, n, mac)) return 0;
    tok[n++] = '.';
    return n + b64url(mac, sizeof mac, tok + n);
}

/* Instructions per verified and applied command, sorted into per[0..cmds). */
static bool bench_commands(uint64_t *per, uint32_t cmds, uint32_t *delivered) {
    static char tok[768];
    kv_set_persist(true); /* a real board persists the state a command changes (and the replay window): those writes count */
    for (uint32_t i = 0; i < cmds; i++) {
        size_t n = signed_command(i + 1, tok, sizeof tok);
        if (n == 0) return false;
        bool reboot;
        hal_test_advance(1000);
        uint64_t s = rv32_instret();
        command_outcome_t r = command_deliver((const uint8_t *)tok, n, &reboot);
        per[i] = rv32_instret() - s;
        if (r == COMMAND_DELIVERED) (*delivered)++;
    }
    kv_set_persist(false);
    qsort(per, cmds, sizeof per[0], cmp_u64);
    return true;
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
    uint64_t tick_median = per[ticks / 2], tick_p99 = per[(ticks * 99) / 100], tick_min = per[0], tick_max = per[ticks - 1];
    uint32_t cmds = ticks < 100 ? ticks : 100, delivered = 0;
    if (!bench_commands(per, cmds, &delivered)) {
        fprintf(stderr, "bench: cannot sign a command\n");
        return 1;
    }
    mem_alloc_info_t info;
    wasm_runtime_get_mem_alloc_info(&info);
    wasm_memory_inst_t mem = wasm_runtime_get_default_memory(a->m.inst);
    uint64_t linear = mem ? wasm_memory_get_cur_page_count(mem) * wasm_memory_get_bytes_per_page(mem) : 0;
    static char json[1280];
    snprintf(json, sizeof json, "{\"interp\":\"%s\",\"ticks\":%lu,\"messages\":%lu,\"boot_instructions\":%llu,\"tick_instructions_median\":%llu,"
           "\"tick_instructions_p99\":%llu,\"hmac300_instructions\":%llu,\"tick_instructions_min\":%llu,\"tick_instructions_max\":%llu,"
           "\"pool_size\":%lu,\"pool_used\":%lu,\"pool_peak\":%lu,\"pool_module\":%lu,\"pool_instance\":%lu,\"pool_exec_env\":%lu,"
           "\"pool_runtime\":%lu,\"linear_memory\":%llu,\"module_size\":%lu,\"heap_peak\":%lu,\"heap_size\":%lu,"
           "\"stack_peak\":%lu,\"stack_size\":%lu,\"static_ram\":%lu,\"wasm_stack\":%lu,"
           "\"commands\":%lu,\"commands_delivered\":%lu,\"command_instructions_median\":%llu,\"command_instructions_p99\":%llu}\n",
           FERRY_FAST_INTERP ? "fast" : "classic", (unsigned long)ticks, (unsigned long)msgs, (unsigned long long)boot,
           (unsigned long long)tick_median, (unsigned long long)tick_p99, (unsigned long long)hmac, (unsigned long long)tick_min,
           (unsigned long long)tick_max, (unsigned long)info.total_size,
           (unsigned long)(info.total_size - info.total_free_size), (unsigned long)info.highmark_size,
           (unsigned long)(a->m.pool_loaded - a->m.pool_before), (unsigned long)(a->m.pool_instantiated - a->m.pool_loaded),
           (unsigned long)(a->m.pool_ready - a->m.pool_instantiated), (unsigned long)a->m.pool_before,
           (unsigned long long)linear, (unsigned long)a->size, (unsigned long)rv32_mem_heap_peak(),
           (unsigned long)(__heap_end - __heap_start), (unsigned long)rv32_mem_stack_used(), (unsigned long)(uintptr_t)__stack_size,
           (unsigned long)(__bss_end - __data_start), (unsigned long)cfg.stack_size,
           (unsigned long)cmds, (unsigned long)delivered, (unsigned long long)per[cmds / 2], (unsigned long long)per[(cmds * 99) / 100]);
    rv32_stdout(json);
    board_destroy();
    free(per);
    return 0;
}
