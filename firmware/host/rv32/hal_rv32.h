/* What the rv32 board's main loop (board_rv32.c) uses of hal_rv32.c. */
#ifndef FERRY_HAL_RV32_H
#define FERRY_HAL_RV32_H

#include <stddef.h>
#include <stdint.h>

extern int hal_log_threshold;
/* Results of the call and bench modes, for the launcher's stdout (out_path). */
void rv32_set_out_path(const char *path);
void rv32_stdout(const char *text);
void rv32_set_wall_start(int64_t ms);
void rv32_uart_init(void);
size_t rv32_uart_read(uint8_t *buf, size_t cap);
void rv32_irq_ack(void);
void rv32_wait(uint64_t deadline);

#endif /* FERRY_HAL_RV32_H */
