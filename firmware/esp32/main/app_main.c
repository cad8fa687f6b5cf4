/* ESP-IDF entry point: the same loop as posix/board_posix.c on a UART: feed received bytes to the board
 * (frames), tick every CONFIG_FERRY_TICK_MS, and reset the module like a watchdog when it traps. */
#include <stdint.h>

#include "board.h"
#include "esp_timer.h"
#include "hal.h"
#include "hal_esp32.h"
#include "mcu.h"
#include "nvs_flash.h"
#include "sdkconfig.h"

void app_main(void) {
    esp_err_t e = nvs_flash_init();
    if (e == ESP_ERR_NVS_NO_FREE_PAGES || e == ESP_ERR_NVS_NEW_VERSION_FOUND) {
        ESP_ERROR_CHECK(nvs_flash_erase());
        e = nvs_flash_init();
    }
    ESP_ERROR_CHECK(e);
    hal_esp32_init();

    char err[256];
    /* 8 KiB wasm stack; 1e8 instructions per call stop a runaway module without a watchdog thread. */
    board_config_t cfg = { .stack_size = 8192, .max_pages = 1, .fuel = 100000000, .test_control = false, .virtual_clock = false };
    if (!board_init(&cfg, err, sizeof err)) {
        hal_log(HAL_LOG_ERROR, "%s", err);
        return;
    }
    if (!board_boot(err, sizeof err)) hal_log(HAL_LOG_WARN, "%s: waiting for `ferry flash`", err);

    static uint8_t buf[1024];
    int64_t next = esp_timer_get_time() / 1000 + CONFIG_FERRY_TICK_MS;
    for (;;) {
        int n = hal_esp32_serial_read(buf, sizeof buf, 50);
        if (n > 0) board_feed(buf, (size_t)n);
        int64_t now = esp_timer_get_time() / 1000;
        if (now < next) continue;
        next = now + CONFIG_FERRY_TICK_MS;
        mcu_tick(); /* firmware/host/mcu: a trapped module is reset like a watchdog would (a new epoch) */
    }
}
