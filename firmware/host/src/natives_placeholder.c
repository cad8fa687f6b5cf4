/* Placeholder native table: a single env.log(ptr, len). To be replaced by the natives generated from
 * packages/abi/src/table.ts (include/ferry_abi.h), which follow the same conventions:
 *
 * - Signatures use WAMR's letters (WAMR doc/export_native_api.md): i/I/f/F for i32/i64/f32/f64,
 *   `*` for an i32 offset into linear memory immediately followed by `~`, its i32 byte length.
 *   For a `*~` pair WAMR checks that [ptr, ptr+len) lies inside linear memory and passes a native
 *   pointer; a bad range raises "out of bounds memory access" in the module without calling us.
 * - WAMR sorts each NativeSymbol array in place (qsort in wasm_native.c) and keeps pointers to it,
 *   so the arrays are static and writable.
 * - Lookup also matches an import named with a leading underscore ("_log" finds "log").
 */
#include "natives.h"

#include <string.h>

#include "hal.h"
#include "wasm_export.h"

#define LOG_MAX 256 /* longest line kept; longer ones are truncated (same as the ABI's logMax) */

static void env_log(wasm_exec_env_t exec_env, const uint8_t *text, uint32_t len) {
    (void)exec_env;
    if (len > LOG_MAX) len = LOG_MAX;
    hal_log(HAL_LOG_INFO, "[wasm] %.*s", (int)len, (const char *)text);
}

static NativeSymbol env_natives[] = {
    { "log", (void *)env_log, "(*~)", NULL },
};

bool ferry_natives_register(void) {
    return wasm_runtime_register_natives("env", env_natives, sizeof env_natives / sizeof env_natives[0]);
}

const char *ferry_natives_signature(const char *module, const char *name) {
    if (strcmp(module, "env") != 0) return NULL;
    for (size_t i = 0; i < sizeof env_natives / sizeof env_natives[0]; i++)
        if (strcmp(env_natives[i].symbol, name) == 0) return env_natives[i].signature;
    return NULL;
}
