/* The host functions a module may import: src/natives.c defines FERRY_ABI_DEFINE_NATIVES, includes
 * the generated include/ferry_abi.h and implements these two over its tables. */
#ifndef FERRY_NATIVES_H
#define FERRY_NATIVES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Registers every native with WAMR (wasm_runtime_register_natives, once per import module).
 * Call after wasm_runtime_full_init and before loading modules: imports are resolved at load. */
bool ferry_natives_register(void);

/* The WAMR signature (e.g. "(*~)") the host registered for module.name, or NULL if it has none.
 * Used to tell "unknown import" from "wrong signature" when a module is refused. */
const char *ferry_natives_signature(const char *module, const char *name);

/* What cmd.read hands the module during a command() call; NULL outside one. */
void ferry_natives_set_command(const uint8_t *body, size_t len);

#endif /* FERRY_NATIVES_H */
