/* ferry-board: `ferry-board serve ...` is the posix board (posix/board_posix.c). Otherwise it loads a
 * wasm module on WAMR the way the board does, calls one export with arguments from the command line,
 * prints the results on stdout and the memory accounting on stderr. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "hal.h"
#include "runtime.h"
#include "sim_posix.h"

int board_posix_main(int argc, char **argv); /* posix/board_posix.c */
int board_bench_main(int argc, char **argv); /* posix/bench_posix.c */

/* One-shot runs have no serial line: messages a module emits are dropped (see hal_serial_write). */

#if !defined(FERRY_DEFAULT_FUEL) || !FERRY_INSTRUCTION_METERING
#undef FERRY_DEFAULT_FUEL
#define FERRY_DEFAULT_FUEL 0
#endif

enum { EXIT_HOST_ERROR = 1, EXIT_USAGE = 2, EXIT_TRAP = 3 };

static int usage(int rc) {
    fprintf(rc ? stderr : stdout,
            "usage: ferry-board serve [options]      the posix board on a pseudo-terminal (serve --help)\n"
            "       ferry-board bench MODULE [TICKS] [RUNS]   tick cost and memory on this WAMR build (JSON)\n"
            "       ferry-board [options] MODULE.wasm EXPORT [ARG...]\n"
            "  Calls EXPORT with ARGs (parsed by its param types; integers may be 0x hex), prints\n"
            "  each result on a line of stdout and WAMR's memory accounting on stderr.\n"
            "options:\n"
            "  --stack BYTES     wasm stack of the execution environment (default 8192)\n"
            "  --fuel N          instruction budget for the call, 0 = unlimited (default %d)%s\n"
            "  --timeout-ms MS   stop the call from a watchdog thread after MS ms%s\n"
            "  --max-pages N     cap linear memory growth at N 64 KiB pages (default: the module's max)\n"
            "exit status: 0 ok, 1 host error (file, load, imports, instantiate, export), 2 usage, 3 trap\n",
            FERRY_DEFAULT_FUEL, FERRY_INSTRUCTION_METERING ? "" : " [not in this build]",
            FERRY_THREAD_MGR ? "" : " [not in this build]");
    return rc;
}

static bool parse_u32(const char *s, uint32_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-' || v > UINT32_MAX) return false;
    *out = (uint32_t)v;
    return true;
}

static bool parse_value(const char *s, wasm_valkind_t kind, wasm_val_t *v) {
    char *end;
    errno = 0;
    memset(v, 0, sizeof *v);
    v->kind = kind;
    if (kind == WASM_I32 || kind == WASM_I64) {
        bool neg = s[0] == '-';
        long long sv = neg ? strtoll(s, &end, 0) : 0;
        unsigned long long uv = neg ? 0 : strtoull(s, &end, 0);
        if (errno || end == s || *end) return false;
        if (kind == WASM_I32) { /* -2^31 .. 2^32-1, wrapped like wasm does */
            if (neg ? sv < INT32_MIN : uv > UINT32_MAX) return false;
            v->of.i32 = neg ? (int32_t)sv : (int32_t)(uint32_t)uv;
        } else {
            v->of.i64 = neg ? (int64_t)sv : (int64_t)(uint64_t)uv;
        }
    } else if (kind == WASM_F32) {
        v->of.f32 = strtof(s, &end);
    } else if (kind == WASM_F64) {
        v->of.f64 = strtod(s, &end);
    } else {
        return false;
    }
    return !errno && end != s && !*end;
}

static void print_value(const wasm_val_t *v) {
    switch (v->kind) {
    case WASM_I32: printf("%" PRId32 "\n", v->of.i32); break;
    case WASM_I64: printf("%" PRId64 "\n", v->of.i64); break;
    case WASM_F32: printf("%.9g\n", (double)v->of.f32); break;
    case WASM_F64: printf("%.17g\n", v->of.f64); break;
    default: printf("<%s>\n", ferry_valkind_name(v->kind)); break;
    }
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "serve") == 0) return board_posix_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "bench") == 0) return board_bench_main(argc - 1, argv + 1);
    sim_config_t sim;
    sim_defaults(&sim);
    sim_configure(&sim);
    uint32_t stack = 8 * 1024, fuel = FERRY_DEFAULT_FUEL, timeout_ms = 0, max_pages = 0;
    bool fuel_given = false;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        uint32_t *dst = !strcmp(opt, "--stack") ? &stack : !strcmp(opt, "--fuel") ? &fuel
                      : !strcmp(opt, "--timeout-ms") ? &timeout_ms : !strcmp(opt, "--max-pages") ? &max_pages : NULL;
        if (!strcmp(opt, "--help")) return usage(0);
        if (!dst || !val || !parse_u32(val, dst) || (dst == &fuel && fuel > INT32_MAX)) {
            fprintf(stderr, "ferry-board: bad option %s %s\n", opt, val ? val : "");
            return usage(EXIT_USAGE);
        }
        fuel_given |= dst == &fuel;
    }
    if (argc - i < 2) return usage(EXIT_USAGE);
    if ((fuel_given && fuel > 0 && !FERRY_INSTRUCTION_METERING) || (timeout_ms > 0 && !FERRY_THREAD_MGR)) {
        fprintf(stderr, "ferry-board: %s is not available in this build (see FERRY_%s in firmware/host/CMakeLists.txt)\n",
                timeout_ms > 0 && !FERRY_THREAD_MGR ? "--timeout-ms" : "--fuel",
                timeout_ms > 0 && !FERRY_THREAD_MGR ? "THREAD_MGR" : "INSTRUCTION_METERING");
        return EXIT_USAGE;
    }
    const char *path = argv[i], *export_name = argv[i + 1];
    char **arg_text = argv + i + 2;
    uint32_t nargs = (uint32_t)(argc - i - 2);

    char err[512];
    uint8_t *binary;
    uint32_t size;
    if (!hal_read_file(path, &binary, &size, err, sizeof err)) {
        hal_log(HAL_LOG_ERROR, "%s", err);
        return EXIT_HOST_ERROR;
    }
    if (!ferry_runtime_init(err, sizeof err)) {
        hal_free_file(binary);
        hal_log(HAL_LOG_ERROR, "%s", err);
        return EXIT_HOST_ERROR;
    }

    int rc = EXIT_HOST_ERROR;
    ferry_module_t m;
    ferry_func_t f;
    wasm_val_t args[FERRY_MAX_VALUES], results[FERRY_MAX_VALUES];
    if (!ferry_module_load(&m, binary, size, stack, max_pages, err, sizeof err)) {
        hal_log(HAL_LOG_ERROR, "%s: %s", path, err);
        goto out_runtime;
    }
    if (!ferry_find_export(&m, export_name, &f, err, sizeof err)) {
        hal_log(HAL_LOG_ERROR, "%s: %s", path, err);
        goto out_module;
    }
    if (nargs != f.param_count) {
        hal_log(HAL_LOG_ERROR, "'%s' takes %u argument(s), got %u", export_name, (unsigned)f.param_count, (unsigned)nargs);
        rc = EXIT_USAGE;
        goto out_module;
    }
    for (uint32_t a = 0; a < nargs; a++) {
        if (!parse_value(arg_text[a], f.params[a], &args[a])) {
            hal_log(HAL_LOG_ERROR, "argument %u '%s' is not a valid %s", (unsigned)a + 1, arg_text[a],
                    ferry_valkind_name(f.params[a]));
            rc = EXIT_USAGE;
            goto out_module;
        }
    }

    ferry_limits_t limits = { .fuel = (int32_t)fuel, .timeout_ms = timeout_ms };
    int64_t t0 = hal_uptime_ms();
    bool ok = ferry_call(&m, &f, args, results, &limits, err, sizeof err);
    int64_t elapsed = hal_uptime_ms() - t0;
    if (ok) {
        for (uint32_t r = 0; r < f.result_count; r++) print_value(&results[r]);
        fflush(stdout);
        rc = 0;
    } else {
        hal_log(HAL_LOG_ERROR, "%s trapped: %s", export_name, err);
        rc = EXIT_TRAP;
    }
    hal_log(HAL_LOG_INFO, "call: %s took %lld ms", export_name, (long long)elapsed);
    ferry_report_memory(&m);
out_module:
    ferry_module_unload(&m);
    {
        /* After unload the pool should be back where it was. WAMR 2.4.3's allocator (ems) does not
         * count a realloc that grows a block in place, so "in use" under-counts by up to this much
         * (fixed upstream by WAMR PR #4995, "Consider in-place realloc in memory usage statistics"). */
        int32_t drift = (int32_t)(ferry_pool_used() - m.pool_before);
        if (drift != 0)
            hal_log(HAL_LOG_INFO, "memory: pool accounting drifted by %d bytes over load+unload (in-place reallocs "
                    "WAMR 2.4.3 does not count): the figures above under-count by up to %d bytes", (int)drift, (int)-drift);
    }
out_runtime:
    ferry_runtime_destroy();
    return rc;
}
