/* What every microcontroller board shares (no operating system: the rv32 board under QEMU,
 * firmware/host/rv32, and the ESP-IDF project, firmware/esp32): the parts of src/hal.h that are the same
 * without a file system or threads, and the main loop's tick. Built and tested with the rv32 board, so
 * what only the ESP-IDF build compiles shrinks to the ESP-IDF calls themselves. */
#ifndef FERRY_MCU_H
#define FERRY_MCU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One control period: board_tick, and when the module traps, what a hardware watchdog does: reboot it
 * (a new epoch). Returns false when nothing runs or the tick failed. */
bool mcu_tick(void);

/* actuator.set's argument checks for a board with one relay on channel 0: FERRY_STATUS_OK when the call
 * may go to the hardware, else the ABI status to return. */
int32_t mcu_relay_check(int32_t channel, int32_t value);

#endif /* FERRY_MCU_H */
