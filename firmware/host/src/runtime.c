/* Ferry's WAMR embedding (see runtime.h). API reference: WAMR core/iwasm/include/wasm_export.h and
 * doc/embed_wamr.md (WAMR 2.4.3). */
#include "runtime.h"

#include <stdio.h>
#include <string.h>

#include "hal.h"
#include "natives.h"

#ifndef FERRY_POOL_SIZE
#define FERRY_POOL_SIZE (256 * 1024)
#endif

/* Every runtime allocation (module, instance, exec env and its stack, native tables) comes from this
 * pool, so wasm_runtime_get_mem_alloc_info() accounts for it (except that WAMR 2.4.3's allocator
 * misses blocks a realloc grew in place: see the drift check in main.c). Linear memory does NOT: in
 * WAMR 2.4 it is allocated by the platform layer (wasm_allocate_linear_memory -> os_mmap in
 * common/wasm_memory.c; heap_caps_malloc on ESP-IDF) unless WAMR_BUILD_ALLOC_WITH_USAGE routes it
 * through a user allocator. ferry_report_memory() reports it separately. */
static uint8_t pool[FERRY_POOL_SIZE] __attribute__((aligned(8)));

bool ferry_runtime_init(char *err, size_t err_size) {
    RuntimeInitArgs args;
    memset(&args, 0, sizeof args);
    args.mem_alloc_type = Alloc_With_Pool;
    args.mem_alloc_option.pool.heap_buf = pool;
    args.mem_alloc_option.pool.heap_size = sizeof pool;
    args.running_mode = Mode_Interp;
    if (!wasm_runtime_full_init(&args)) {
        snprintf(err, err_size, "wasm_runtime_full_init failed (pool of %u bytes)", (unsigned)sizeof pool);
        return false;
    }
    wasm_runtime_set_log_level(WASM_LOG_LEVEL_WARNING);
    if (!ferry_natives_register()) {
        snprintf(err, err_size, "registering the host functions failed (pool exhausted?)");
        wasm_runtime_destroy();
        return false;
    }
    return true;
}

void ferry_runtime_destroy(void) { wasm_runtime_destroy(); }

uint32_t ferry_pool_used(void) {
    mem_alloc_info_t info;
    if (!wasm_runtime_get_mem_alloc_info(&info)) return 0;
    return info.total_size - info.total_free_size;
}

/* Hint appended to WAMR's out-of-memory errors ("allocate memory failed"). */
static const char *pool_hint(const char *wamr_error) {
    static char hint[96];
    if (!strstr(wamr_error, "allocate memory failed")) return "";
    snprintf(hint, sizeof hint, " (the pool of %u bytes is exhausted: raise FERRY_POOL_SIZE)", (unsigned)sizeof pool);
    return hint;
}

const char *ferry_valkind_name(wasm_valkind_t kind) {
    switch (kind) {
    case WASM_I32: return "i32";
    case WASM_I64: return "i64";
    case WASM_F32: return "f32";
    case WASM_F64: return "f64";
    case WASM_V128: return "v128";
    case WASM_EXTERNREF: return "externref";
    case WASM_FUNCREF: return "funcref";
    default: return "?";
    }
}

/* "(i32, i32) -> i32" */
static void format_func_type(wasm_func_type_t type, char *out, size_t size) {
    size_t n = 0;
    uint32_t params = wasm_func_type_get_param_count(type), results = wasm_func_type_get_result_count(type);
    n += (size_t)snprintf(out + n, n < size ? size - n : 0, "(");
    for (uint32_t i = 0; i < params; i++)
        n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%s%s", i ? ", " : "",
                              ferry_valkind_name(wasm_func_type_get_param_valkind(type, i)));
    n += (size_t)snprintf(out + n, n < size ? size - n : 0, ") -> ");
    if (results == 0) n += (size_t)snprintf(out + n, n < size ? size - n : 0, "()");
    for (uint32_t i = 0; i < results; i++)
        n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%s%s", i ? ", " : "",
                              ferry_valkind_name(wasm_func_type_get_result_valkind(type, i)));
}

/* WAMR links function imports at load time but an unresolved one only logs a warning and traps
 * when called ("failed to call unlinked import function"; check_linked_symbol() in
 * interpreter/wasm_runtime.c). A board must refuse such a module up front, so we walk the imports
 * ourselves. A native whose signature does not match the import is also left unlinked. */
static bool check_imports(wasm_module_t module, char *err, size_t err_size) {
    static const char *const kinds[] = { "function", "table", "memory", "global" };
    int32_t count = wasm_runtime_get_import_count(module);
    if (count < 0) {
        snprintf(err, err_size, "cannot list the module's imports");
        return false;
    }
    int bad = 0;
    char first[256] = "";
    for (int32_t i = 0; i < count; i++) {
        wasm_import_t imp;
        wasm_runtime_get_import_type(module, i, &imp);
        char why[256], type[96];
        if (imp.kind != WASM_IMPORT_EXPORT_KIND_FUNC) {
            snprintf(why, sizeof why, "import %s.%s: %s imports are not supported (a module defines its own)",
                     imp.module_name, imp.name, (unsigned)imp.kind < 4 ? kinds[imp.kind] : "unknown");
        } else if (!imp.linked) {
            format_func_type(imp.u.func_type, type, sizeof type);
            const char *sig = ferry_natives_signature(imp.module_name, imp.name);
            if (sig)
                snprintf(why, sizeof why, "import %s.%s %s: does not match the host's signature %s",
                         imp.module_name, imp.name, type, sig);
            else
                snprintf(why, sizeof why, "import %s.%s %s: no such host function", imp.module_name, imp.name, type);
        } else {
            continue;
        }
        /* One problem goes back in err; with several, each is logged and err sums them up. */
        if (++bad == 1) {
            snprintf(first, sizeof first, "%s", why);
            continue;
        }
        if (bad == 2) hal_log(HAL_LOG_ERROR, "%s", first);
        hal_log(HAL_LOG_ERROR, "%s", why);
    }
    if (bad == 1) snprintf(err, err_size, "%s", first);
    if (bad > 1) snprintf(err, err_size, "%d imports are not provided by this host (listed above)", bad);
    return bad == 0;
}

bool ferry_module_load(ferry_module_t *m, uint8_t *binary, uint32_t size, uint32_t stack_size,
                       uint32_t max_pages, char *err, size_t err_size) {
    static char no_name[] = "";
    char werr[256] = "";
    memset(m, 0, sizeof *m);
    m->binary = binary;
    m->binary_size = size;
    m->stack_size = stack_size;
    m->pool_before = ferry_pool_used();

    /* WAMR may patch the buffer while loading, so it must be writable. wasm_binary_freeable makes
     * the loader copy what it keeps; the fast interpreter then no longer needs the image (the
     * classic one interprets the bytecode in place and needs it until unload). */
    LoadArgs load_args;
    memset(&load_args, 0, sizeof load_args);
    load_args.name = no_name;
    load_args.wasm_binary_freeable = true;
    m->module = wasm_runtime_load_ex(binary, size, &load_args, werr, sizeof werr);
    if (!m->module) {
        snprintf(err, err_size, "load failed: %s%s", werr, pool_hint(werr));
        goto fail;
    }
    if (wasm_runtime_is_underlying_binary_freeable(m->module)) {
        hal_free_file(m->binary);
        m->binary = NULL;
    }
    m->pool_loaded = ferry_pool_used();
    if (!check_imports(m->module, err, err_size)) goto fail;

    /* Host-managed heap 0: modules bring their own allocator inside linear memory. */
    InstantiationArgs inst_args = { .default_stack_size = stack_size, .host_managed_heap_size = 0,
                                    .max_memory_pages = max_pages };
    m->inst = wasm_runtime_instantiate_ex(m->module, &inst_args, werr, sizeof werr);
    if (!m->inst) {
        snprintf(err, err_size, "instantiate failed: %s%s", werr, pool_hint(werr));
        goto fail;
    }
    m->pool_instantiated = ferry_pool_used();
    m->exec_env = wasm_runtime_create_exec_env(m->inst, stack_size);
    if (!m->exec_env) {
        snprintf(err, err_size, "cannot create an execution environment with a %u-byte stack%s", (unsigned)stack_size,
                 pool_hint("allocate memory failed"));
        goto fail;
    }
    m->pool_ready = ferry_pool_used();
    return true;
fail:
    ferry_module_unload(m);
    return false;
}

void ferry_module_unload(ferry_module_t *m) {
    if (m->exec_env) wasm_runtime_destroy_exec_env(m->exec_env);
    if (m->inst) wasm_runtime_deinstantiate(m->inst);
    if (m->module) wasm_runtime_unload(m->module);
    if (m->binary) hal_free_file(m->binary);
    m->exec_env = NULL;
    m->inst = NULL;
    m->module = NULL;
    m->binary = NULL;
}

bool ferry_find_export(ferry_module_t *m, const char *name, ferry_func_t *f, char *err, size_t err_size) {
    memset(f, 0, sizeof *f);
    f->name = name;
    f->fn = wasm_runtime_lookup_function(m->inst, name);
    if (!f->fn) {
        snprintf(err, err_size, "the module exports no function named '%s'", name);
        return false;
    }
    f->param_count = wasm_func_get_param_count(f->fn, m->inst);
    f->result_count = wasm_func_get_result_count(f->fn, m->inst);
    if (f->param_count > FERRY_MAX_VALUES || f->result_count > FERRY_MAX_VALUES) {
        snprintf(err, err_size, "'%s' has more than %d params or results", name, FERRY_MAX_VALUES);
        return false;
    }
    wasm_func_get_param_types(f->fn, m->inst, f->params);
    wasm_func_get_result_types(f->fn, m->inst, f->results);
    return true;
}

#if FERRY_THREAD_MGR
/* Watchdog callback, on the watchdog's thread. With WAMR's thread manager the exception is spread
 * to the exec env as a terminate flag, which the interpreter polls at branches and calls
 * (CHECK_SUSPEND_FLAGS in interpreter/wasm_interp_*.c). */
static void terminate_call(void *inst) { wasm_runtime_terminate((wasm_module_inst_t)inst); }
#endif

bool ferry_call(ferry_module_t *m, const ferry_func_t *f, wasm_val_t *args, wasm_val_t *results,
                const ferry_limits_t *limits, char *err, size_t err_size) {
#if FERRY_INSTRUCTION_METERING
    /* Counted in interpreter dispatches (fast-interp ops are not 1:1 with wasm instructions); the
     * budget is per top-level call and raises "instruction limit exceeded". */
    wasm_runtime_set_instruction_count_limit(m->exec_env, limits->fuel > 0 ? limits->fuel : -1);
#else
    if (limits->fuel > 0) {
        snprintf(err, err_size, "an instruction budget needs a build with FERRY_INSTRUCTION_METERING=ON");
        return false;
    }
#endif
    if (limits->timeout_ms > 0) {
#if FERRY_THREAD_MGR
        if (!hal_watchdog_arm(limits->timeout_ms, terminate_call, m->inst)) {
            snprintf(err, err_size, "cannot start the watchdog");
            return false;
        }
#else
        /* Without the thread manager wasm_runtime_terminate() only sets the exception text, which
         * the interpreter never looks at while it runs: the call would not stop. */
        snprintf(err, err_size, "a timeout needs a build with FERRY_THREAD_MGR=ON");
        return false;
#endif
    }
    bool ok = wasm_runtime_call_wasm_a(m->exec_env, f->fn, f->result_count, results, f->param_count, args);
    if (limits->timeout_ms > 0) hal_watchdog_disarm();
    if (!ok) {
        const char *exc = wasm_runtime_get_exception(m->inst);
        if (exc && strncmp(exc, "Exception: ", 11) == 0) exc += 11;
        snprintf(err, err_size, "%s", exc && *exc ? exc : "call failed without an exception");
        wasm_runtime_clear_exception(m->inst); /* also clears a thread-manager terminate flag */
    }
    return ok;
}

void ferry_report_memory(const ferry_module_t *m) {
    mem_alloc_info_t info;
    if (wasm_runtime_get_mem_alloc_info(&info))
        hal_log(HAL_LOG_INFO, "memory: pool %u bytes, in use %u, peak %u", (unsigned)info.total_size,
                (unsigned)(info.total_size - info.total_free_size), (unsigned)info.highmark_size);
    hal_log(HAL_LOG_INFO, "memory: pool in use after init %u; module +%u; instance +%u; exec env with %u-byte stack +%u",
            (unsigned)m->pool_before, (unsigned)(m->pool_loaded - m->pool_before),
            (unsigned)(m->pool_instantiated - m->pool_loaded), (unsigned)m->stack_size,
            (unsigned)(m->pool_ready - m->pool_instantiated));
    hal_log(HAL_LOG_INFO, "memory: module image %u bytes, %s", (unsigned)m->binary_size,
            m->binary ? "kept until unload (classic interpreter runs it in place)" : "freed after load");
    wasm_memory_inst_t mem = m->inst ? wasm_runtime_get_default_memory(m->inst) : NULL;
    if (mem) {
        uint64_t pages = wasm_memory_get_cur_page_count(mem), page = wasm_memory_get_bytes_per_page(mem);
        hal_log(HAL_LOG_INFO, "memory: linear memory %llu x %llu = %llu bytes, outside the pool",
                (unsigned long long)pages, (unsigned long long)page, (unsigned long long)(pages * page));
    } else {
        hal_log(HAL_LOG_INFO, "memory: no linear memory");
    }
    if (m->exec_env) {
        /* WAMR prints this breakdown at VERBOSE level only. Its "memories size" includes linear
         * memory although that lives outside the pool. */
        wasm_runtime_set_log_level(WASM_LOG_LEVEL_VERBOSE);
        wasm_runtime_dump_mem_consumption(m->exec_env);
        wasm_runtime_set_log_level(WASM_LOG_LEVEL_WARNING);
    }
}
