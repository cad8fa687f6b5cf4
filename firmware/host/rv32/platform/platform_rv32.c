/* WAMR's platform layer for the rv32 board (see platform_internal.h). Allocation goes to picolibc's
 * malloc over the heap the linker script leaves between .bss and the stack (rv32/CMakeLists.txt), so
 * a module whose linear memory does not fit fails to instantiate instead of running past the RAM
 * budget. WAMR's own runtime allocations come from Ferry's static pool (src/runtime.c), not from here. */
#include "platform_api_vmcore.h"
#include "platform_api_extension.h"

/* rv32/hal_rv32.c: the log sink and the clock. */
int ferry_rv32_vprintf(const char *format, va_list ap);
uint64_t ferry_rv32_uptime_us(void);

extern char __stack[], __stack_size[]; /* picolibc.ld */

int bh_platform_init(void) { return 0; }
void bh_platform_destroy(void) {}

void *os_malloc(unsigned size) { return malloc(size); }
void *os_realloc(void *ptr, unsigned size) { return realloc(ptr, size); }
void os_free(void *ptr) { free(ptr); }

int os_printf(const char *format, ...) {
    va_list ap;
    va_start(ap, format);
    int n = ferry_rv32_vprintf(format, ap);
    va_end(ap);
    return n;
}

int os_vprintf(const char *format, va_list ap) { return ferry_rv32_vprintf(format, ap); }

int os_dumps_proc_mem_info(char *out, unsigned int size) {
    (void)out;
    (void)size;
    return -1;
}

uint64 os_time_get_boot_us(void) { return ferry_rv32_uptime_us(); }
uint64 os_time_thread_cputime_us(void) { return ferry_rv32_uptime_us(); }

/* One thread: the main loop. */
korp_tid os_self_thread(void) { return 1; }

/* The lowest address of the one stack; WAMR keeps its native-stack guard above it. */
uint8 *os_thread_get_stack_boundary(void) { return (uint8 *)(__stack - (uintptr_t)__stack_size); }

void os_thread_jit_write_protect_np(bool enabled) { (void)enabled; }

int os_mutex_init(korp_mutex *mutex) {
    *mutex = 0;
    return BHT_OK;
}
int os_mutex_destroy(korp_mutex *mutex) {
    (void)mutex;
    return BHT_OK;
}
int os_mutex_lock(korp_mutex *mutex) {
    (void)mutex;
    return BHT_OK;
}
int os_mutex_unlock(korp_mutex *mutex) {
    (void)mutex;
    return BHT_OK;
}

/* Linear memory (common/wasm_memory.c): zeroed heap blocks; nothing to protect without an MMU. */
void *os_mmap(void *hint, size_t size, int prot, int flags, os_file_handle file) {
    (void)hint;
    (void)prot;
    (void)flags;
    (void)file;
    if (size >= UINT32_MAX) return NULL;
    return calloc(1, size);
}

void os_munmap(void *addr, size_t size) {
    (void)size;
    free(addr);
}

int os_mprotect(void *addr, size_t size, int prot) {
    (void)addr;
    (void)size;
    (void)prot;
    return 0;
}

void *os_mremap(void *old_addr, size_t old_size, size_t new_size) { return os_mremap_slow(old_addr, old_size, new_size); }

void os_dcache_flush(void) {}
void os_icache_flush(void *start, size_t len) {
    (void)start;
    (void)len;
}

os_raw_file_handle os_invalid_raw_handle(void) { return -1; }
