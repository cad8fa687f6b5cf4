/* RAM accounting of the rv32 board (bench_rv32.c): the heap grows through sbrk between the end of
 * .bss and the stack, both bounded by the linker script (rv32/CMakeLists.txt), so a board that needs
 * more than its RAM fails to allocate instead of overrunning. */
#ifndef FERRY_RV32_MEM_H
#define FERRY_RV32_MEM_H

#include <stdint.h>

#include "board.h"

/* Fills the unused stack with a pattern, so rv32_mem_stack_used() finds the deepest use. */
void rv32_mem_paint_stack(void);
uint32_t rv32_mem_stack_used(void);
uint32_t rv32_mem_heap_peak(void);
int rv32_bench(uint32_t ticks, const board_config_t *bc);

#endif /* FERRY_RV32_MEM_H */
