/* Test-control hooks a simulating HAL provides (posix/sim_posix.c); used by serial_test.c only. */
#ifndef FERRY_HAL_TEST_H
#define FERRY_HAL_TEST_H

#include <stdint.h>

/* Lets simulated time pass: the virtual clock advances and the room steps Math.round(ms / 1000)
 * seconds, exactly like EmulatedBoard.advance (firmware/emulator/board.ts). */
void hal_test_advance(uint32_t ms);
/* mode 0: read the simulated room; 1: return value (hundredths); 2: DEVICE_FAULT. */
void hal_test_sensor(uint8_t mode, int32_t value);

#endif /* FERRY_HAL_TEST_H */
