/* The microcontroller boards' common HAL parts and tick (see mcu.h). */
#include "mcu.h"

#include <stdio.h>
#include <stdlib.h>

#include "board.h"
#include "ferry_abi.h"
#include "hal.h"

/* No file system: modules come from flash (hal_factory_module, hal_slot_read). */
bool hal_read_file(const char *path, uint8_t **data, uint32_t *size, char *err, size_t err_size) {
    (void)data;
    (void)size;
    snprintf(err, err_size, "%s: this board has no file system (modules live in flash slots)", path);
    return false;
}

void hal_free_file(uint8_t *data) { free(data); }

/* No second thread to stop a call from: runaway code is stopped by the instruction budget (fuel). */
bool hal_watchdog_arm(uint32_t ms, void (*fn)(void *arg), void *arg) {
    (void)ms;
    (void)fn;
    (void)arg;
    return false;
}

void hal_watchdog_disarm(void) {}

int32_t mcu_relay_check(int32_t channel, int32_t value) {
    if (channel != 0) return FERRY_STATUS_NO_SUCH_CHANNEL;
    if (value != 0 && value != 1) return FERRY_STATUS_BAD_ARGUMENT;
    return FERRY_STATUS_OK;
}

bool mcu_tick(void) {
    char err[256];
    int32_t result;
    if (board_tick(&result, err, sizeof err)) return true;
    if (board_app()->live) {
        hal_log(HAL_LOG_ERROR, "tick: %s; resetting the module (new epoch)", err);
        if (!board_boot(err, sizeof err)) hal_log(HAL_LOG_ERROR, "boot: %s", err);
    }
    return false;
}
