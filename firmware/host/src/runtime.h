/* Ferry's WAMR embedding, board-independent: runtime on a static pool, module load with import
 * checking, instantiation, calls with an instruction budget or a watchdog, memory accounting.
 * main.c drives it from the command line; an ESP-IDF app_main will drive it the same way. */
#ifndef FERRY_RUNTIME_H
#define FERRY_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wasm_export.h"

#define FERRY_MAX_VALUES 16 /* most params/results of an export we call */

typedef struct {
    uint8_t *binary; /* module image (hal_read_file); NULL once WAMR no longer needs it */
    uint32_t binary_size;
    wasm_module_t module;
    wasm_module_inst_t inst;
    wasm_exec_env_t exec_env;
    uint32_t stack_size;
    /* Pool bytes in use after each step, for the memory report. */
    uint32_t pool_before, pool_loaded, pool_instantiated, pool_ready;
} ferry_module_t;

typedef struct {
    const char *name;
    wasm_function_inst_t fn;
    uint32_t param_count, result_count;
    wasm_valkind_t params[FERRY_MAX_VALUES], results[FERRY_MAX_VALUES];
} ferry_func_t;

typedef struct {
    int32_t fuel;        /* instruction budget for this call; <= 0: unlimited (FERRY_INSTRUCTION_METERING) */
    uint32_t timeout_ms; /* watchdog; 0: none (FERRY_THREAD_MGR) */
} ferry_limits_t;

/* Starts WAMR on the static pool and registers the natives. */
bool ferry_runtime_init(char *err, size_t err_size);
void ferry_runtime_destroy(void);
/* Bytes of the pool in use now (0 if unknown). Under-counts blocks WAMR 2.4.3 grew in place. */
uint32_t ferry_pool_used(void);

/* Loads a module image (taking ownership of binary, freed with hal_free_file), refuses modules whose
 * imports the host does not provide, instantiates it with no host-managed heap, and creates an
 * execution environment with stack_size bytes of wasm operand/frame stack. max_pages caps linear
 * memory growth (0: the module's own maximum). */
bool ferry_module_load(ferry_module_t *m, uint8_t *binary, uint32_t size, uint32_t stack_size,
                       uint32_t max_pages, char *err, size_t err_size);
void ferry_module_unload(ferry_module_t *m);

bool ferry_find_export(ferry_module_t *m, const char *name, ferry_func_t *f, char *err, size_t err_size);
/* Calls f with f->param_count args; on a trap returns false with WAMR's exception text in err. */
bool ferry_call(ferry_module_t *m, const ferry_func_t *f, wasm_val_t *args, wasm_val_t *results,
                const ferry_limits_t *limits, char *err, size_t err_size);

/* Logs pool usage per step, linear memory, and WAMR's own breakdown (wasm_runtime_dump_mem_consumption). */
void ferry_report_memory(const ferry_module_t *m);

const char *ferry_valkind_name(wasm_valkind_t kind);

#endif /* FERRY_RUNTIME_H */
