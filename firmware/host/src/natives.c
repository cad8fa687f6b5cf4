/* The ABI host functions (packages/abi/src/table.ts -> include/ferry_abi.h), board-independent: the
 * board-specific parts go through hal.h. Each mirrors packages/wasm-host/src/runtime.ts check for
 * check and in the same order, so every host returns the same status for the same call (the ABI
 * conformance suite holds them to it).
 *
 * WAMR has already checked every (pointer, length) pair (`*~`, WAMR doc/export_native_api.md) and
 * passes native pointers; WAMR sorts each NativeSymbol array in place (wasm_native.c) and keeps
 * pointers to it, which is why the generated arrays are static and writable. */
#define FERRY_ABI_DEFINE_NATIVES
#include "ferry_abi.h"

#include <stdio.h>
#include <string.h>

#include "board.h"
#include "hal.h"
#include "kv_state.h"
#include "natives.h"

int64_t ferry_clock_now_ms(wasm_exec_env_t exec_env) {
    (void)exec_env;
    return hal_now_ms();
}

int64_t ferry_clock_uptime_ms(wasm_exec_env_t exec_env) {
    (void)exec_env;
    return hal_uptime_ms();
}

int32_t ferry_sensor_read(wasm_exec_env_t exec_env, int32_t channel, uint8_t *out, uint32_t out_len) {
    (void)exec_env;
    if (out_len != 4) return FERRY_STATUS_BAD_ARGUMENT;
    int32_t v = 0;
    int32_t st = hal_sensor_read(channel, &v);
    if (st != FERRY_STATUS_OK) return st;
    uint32_t u = (uint32_t)v; /* little-endian i32, as the table says */
    for (int i = 0; i < 4; i++) out[i] = (uint8_t)(u >> (8 * i));
    return FERRY_STATUS_OK;
}

int32_t ferry_actuator_set(wasm_exec_env_t exec_env, int32_t channel, int32_t value) {
    (void)exec_env;
    return hal_actuator_set(channel, value);
}

int32_t ferry_state_get(wasm_exec_env_t exec_env, const uint8_t *key, uint32_t key_len, uint8_t *out, uint32_t out_cap) {
    (void)exec_env;
    if (!kv_key_valid(key, key_len, false)) return FERRY_STATUS_BAD_ARGUMENT;
    size_t n;
    const uint8_t *v = kv_get(key, key_len, &n);
    if (!v) return FERRY_STATUS_NOT_FOUND;
    if (n > out_cap) return FERRY_STATUS_BUFFER_TOO_SMALL;
    memcpy(out, v, n);
    return (int32_t)n;
}

int32_t ferry_state_set(wasm_exec_env_t exec_env, const uint8_t *key, uint32_t key_len, const uint8_t *value, uint32_t value_len) {
    (void)exec_env;
    if (!kv_key_valid(key, key_len, false) || value_len > FERRY_LIMIT_STATE_VALUE_MAX) return FERRY_STATUS_BAD_ARGUMENT;
    return kv_set(key, key_len, value, value_len);
}

int32_t ferry_state_key_at(wasm_exec_env_t exec_env, const uint8_t *prefix, uint32_t prefix_len, int32_t index, uint8_t *out, uint32_t out_cap) {
    (void)exec_env;
    if (!kv_key_valid(prefix, prefix_len, true) || index < 0) return FERRY_STATUS_BAD_ARGUMENT;
    size_t n;
    const uint8_t *k = kv_key_at(prefix, prefix_len, (uint32_t)index, &n);
    if (!k) return FERRY_STATUS_NOT_FOUND;
    if (n > out_cap) return FERRY_STATUS_BUFFER_TOO_SMALL;
    memcpy(out, k, n);
    return (int32_t)n;
}

int32_t ferry_msg_emit(wasm_exec_env_t exec_env, const uint8_t *data, uint32_t data_len) {
    (void)exec_env;
    if (data_len == 0 || data_len > FERRY_LIMIT_EMIT_MAX) return FERRY_STATUS_BAD_ARGUMENT;
    board_emit(data, data_len);
    return FERRY_STATUS_OK;
}

int32_t ferry_dev_id(wasm_exec_env_t exec_env, uint8_t *out, uint32_t out_cap) {
    (void)exec_env;
    const char *id = hal_device_id();
    size_t n = strlen(id);
    if (n > out_cap) return FERRY_STATUS_BUFFER_TOO_SMALL;
    memcpy(out, id, n);
    return (int32_t)n;
}

int32_t ferry_dev_sign(wasm_exec_env_t exec_env, const uint8_t *data, uint32_t data_len, uint8_t *mac, uint32_t mac_len) {
    (void)exec_env;
    if (mac_len != 32) return FERRY_STATUS_BAD_ARGUMENT;
    uint8_t tag[32];
    if (!hal_sign(data, data_len, tag)) return FERRY_STATUS_UNAVAILABLE;
    memcpy(mac, tag, 32);
    return 32;
}

/* The body of the signed command being delivered (command.c sets it around the module's command() call). */
static const uint8_t *command_body;
static size_t command_len;

void ferry_natives_set_command(const uint8_t *body, size_t len) {
    command_body = body;
    command_len = len;
}

int32_t ferry_cmd_read(wasm_exec_env_t exec_env, uint8_t *out, uint32_t out_cap) {
    (void)exec_env;
    if (!command_body) return FERRY_STATUS_NOT_FOUND;
    if (command_len > out_cap) return FERRY_STATUS_BUFFER_TOO_SMALL;
    memcpy(out, command_body, command_len);
    return (int32_t)command_len;
}

void ferry_log_write(wasm_exec_env_t exec_env, int32_t level, const uint8_t *text, uint32_t text_len) {
    (void)exec_env;
    if (level < 0 || level > 3) level = 3; /* table: a bad level is logged as error */
    if (text_len > FERRY_LIMIT_LOG_MAX) text_len = FERRY_LIMIT_LOG_MAX;
    board_module_log(level, text, text_len);
}

void ferry_sys_abort(wasm_exec_env_t exec_env, const uint8_t *message, uint32_t message_len, const uint8_t *file,
                     uint32_t file_len, int32_t line, int32_t column) {
    char why[512];
    snprintf(why, sizeof why, "FERRY_ABI_ABORT: %.*s at %.*s:%d:%d", (int)(message_len > 200 ? 200 : message_len),
             (const char *)message, (int)(file_len > 200 ? 200 : file_len), (const char *)file, (int)line, (int)column);
    /* Setting an exception makes the interpreter unwind when the native returns: the call traps and
     * the board discards the instance (WAMR doc/export_native_api.md, "throw exception"). */
    wasm_runtime_set_exception(wasm_runtime_get_module_inst(exec_env), why);
}

bool ferry_natives_register(void) {
    for (uint32_t i = 0; i < FERRY_ABI_MODULE_COUNT; i++) {
        const ferry_abi_module_t *m = &ferry_abi_modules[i];
        if (!wasm_runtime_register_natives(m->module, m->symbols, m->count)) return false;
    }
    return true;
}

const char *ferry_natives_signature(const char *module, const char *name) {
    for (uint32_t i = 0; i < FERRY_ABI_IMPORT_COUNT; i++)
        if (strcmp(ferry_abi_imports[i].module, module) == 0 && strcmp(ferry_abi_imports[i].name, name) == 0)
            return ferry_abi_imports[i].signature;
    return NULL;
}
