/* ESP32-only HAL setup (the rest of the HAL is src/hal.h). */
#ifndef FERRY_HAL_ESP32_H
#define FERRY_HAL_ESP32_H

#include <stddef.h>
#include <stdint.h>

/* UART, relay GPIO, temperature sensor, device id and key. Call after nvs_flash_init(). */
void hal_esp32_init(void);
/* Bytes from the Ferry UART, waiting up to wait_ms; returns the count (0 on timeout). */
int hal_esp32_serial_read(uint8_t *buf, size_t cap, uint32_t wait_ms);

#endif
