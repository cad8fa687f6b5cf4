/* The board HAL (../../host/src/hal.h) on ESP-IDF >= 5.3. Kept small on purpose: everything that can
 * be board-independent lives in firmware/host/src and is tested on the posix board; what the boards
 * without an operating system share (no file system, no watchdog thread, the relay's checks, the
 * tick) is firmware/host/mcu/hal_mcu.c, built and tested with the rv32 board under QEMU.
 *  - clocks: esp_timer (uptime), gettimeofday (wall; 0 until SNTP or the gateway sets it)
 *  - records (epoch, state, boot record): NVS namespace "ferry" (nvs_set_blob + nvs_commit; NVS writes
 *    an entry atomically, so a power cut leaves the old or the new value)
 *  - module slots: the wasm_a / wasm_b partitions (partitions.csv), esp_partition_*
 *  - sensor channel 0: the on-chip temperature sensor where the SoC has one (SOC_TEMP_SENSOR_SUPPORTED);
 *    it measures the die, not the room: wire a room sensor and replace read_room_centi()
 *  - actuator channel 0: a relay on CONFIG_FERRY_RELAY_GPIO
 *  - dev.sign: the HMAC peripheral with an eFuse key (CONFIG_FERRY_SIGN_WITH_HMAC_PERIPHERAL: the key is
 *    never readable by software), else mbedTLS with a key read from NVS namespace "ferry_key" into RAM
 *    that wasm cannot address (docs/flashing.md: provisioning).
 *  - hal_downlink_mac (signed commands, docs/actions.md "On the board"): HMAC with the downlink key,
 *    derived at start from the NVS key (HKDF, as the posix board does); with the HMAC peripheral the device
 *    key cannot be read, so the downlink key is provisioned beside it as NVS ferry_key/downlink (32 bytes,
 *    `downlinkKeyBytes` of @ferry/message/node computes it). */
#include "hal.h"
#include "hal_esp32.h"
#include "mcu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "crypto.h"
#include "driver/gpio.h"
#include "driver/uart.h"
#include "esp_log.h"
#include "esp_mac.h"
#include "esp_partition.h"
#include "esp_timer.h"
#include "ferry_abi.h"
#include "freertos/FreeRTOS.h"
#include "nvs.h"
#include "sdkconfig.h"
#include "soc/soc_caps.h"
#if SOC_TEMP_SENSOR_SUPPORTED
#include "driver/temperature_sensor.h"
#endif
#if CONFIG_FERRY_SIGN_WITH_HMAC_PERIPHERAL
#include "esp_hmac.h"
#endif

static const char *TAG = "ferry";
static int64_t boot_us;
static char device_id[FERRY_LIMIT_DEVICE_ID_MAX + 1];
static uint8_t key[64];
static size_t key_len;
static uint8_t downlink_key[32];
static bool has_downlink_key;
static int relay;
#if SOC_TEMP_SENSOR_SUPPORTED
static temperature_sensor_handle_t tsens;
#endif

int64_t hal_now_ms(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return tv.tv_sec < 1600000000 ? 0 : (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000; /* not set yet: 0 */
}
int64_t hal_uptime_ms(void) { return (esp_timer_get_time() - boot_us) / 1000; }
void hal_on_boot(void) { boot_us = esp_timer_get_time(); }

void hal_vlog(hal_log_level_t level, const char *fmt, va_list ap) {
    char line[320];
    vsnprintf(line, sizeof line, fmt, ap);
    switch (level) {
    case HAL_LOG_DEBUG: ESP_LOGD(TAG, "%s", line); break;
    case HAL_LOG_INFO: ESP_LOGI(TAG, "%s", line); break;
    case HAL_LOG_WARN: ESP_LOGW(TAG, "%s", line); break;
    default: ESP_LOGE(TAG, "%s", line); break;
    }
}

void hal_log(hal_log_level_t level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    hal_vlog(level, fmt, ap);
    va_end(ap);
}

bool hal_persist_write(const char *key_name, const void *data, size_t size) {
    nvs_handle_t h;
    if (nvs_open("ferry", NVS_READWRITE, &h) != ESP_OK) return false;
    bool ok = nvs_set_blob(h, key_name, data, size) == ESP_OK && nvs_commit(h) == ESP_OK;
    nvs_close(h);
    return ok;
}

long hal_persist_read(const char *key_name, void *buf, size_t cap) {
    nvs_handle_t h;
    size_t len = 0;
    if (nvs_open("ferry", NVS_READONLY, &h) != ESP_OK) return -1; /* namespace not created yet */
    esp_err_t e = nvs_get_blob(h, key_name, NULL, &len);
    if (e == ESP_OK && len <= cap) e = nvs_get_blob(h, key_name, buf, &len);
    nvs_close(h);
    return e == ESP_ERR_NVS_NOT_FOUND ? -1 : e != ESP_OK ? -2 : (long)len;
}

static int32_t read_room_centi(int32_t *centi) {
#if SOC_TEMP_SENSOR_SUPPORTED
    float c;
    if (!tsens || temperature_sensor_get_celsius(tsens, &c) != ESP_OK) return FERRY_STATUS_DEVICE_FAULT;
    *centi = (int32_t)(c * 100.0f + (c >= 0 ? 0.5f : -0.5f));
    return FERRY_STATUS_OK;
#else
    (void)centi;
    return FERRY_STATUS_DEVICE_FAULT; /* no on-chip sensor (classic ESP32): wire one and read it here */
#endif
}

int32_t hal_sensor_read(int32_t channel, int32_t *centi) {
    return channel == 0 ? read_room_centi(centi) : FERRY_STATUS_NO_SUCH_CHANNEL;
}

int32_t hal_actuator_set(int32_t channel, int32_t value) {
    int32_t st = mcu_relay_check(channel, value);
    if (st != FERRY_STATUS_OK) return st;
    if (gpio_set_level(CONFIG_FERRY_RELAY_GPIO, (uint32_t)value) != ESP_OK) return FERRY_STATUS_DEVICE_FAULT;
    relay = value;
    return FERRY_STATUS_OK;
}

int32_t hal_actuator_get(int32_t channel) { return channel == 0 ? relay : 0; }

const char *hal_device_id(void) { return device_id; }

bool hal_sign(const uint8_t *data, size_t len, uint8_t mac[32]) {
#if CONFIG_FERRY_SIGN_WITH_HMAC_PERIPHERAL
    return esp_hmac_calculate((hmac_key_id_t)(HMAC_KEY0 + CONFIG_FERRY_HMAC_EFUSE_KEY_ID), data, len, mac) == ESP_OK;
#else
    return key_len >= 32 && ferry_hmac_sha256(key, key_len, data, len, mac);
#endif
}

bool hal_downlink_mac(const uint8_t *data, size_t len, uint8_t mac[32]) {
    return has_downlink_key && ferry_hmac_sha256(downlink_key, sizeof downlink_key, data, len, mac);
}

void hal_serial_write(const uint8_t *data, size_t len) {
    /* Copies into the driver's TX ring buffer; blocks only while that is full. */
    uart_write_bytes(CONFIG_FERRY_UART_NUM, data, len);
}

int hal_esp32_serial_read(uint8_t *buf, size_t cap, uint32_t wait_ms) {
    int n = uart_read_bytes(CONFIG_FERRY_UART_NUM, buf, (uint32_t)cap, pdMS_TO_TICKS(wait_ms));
    return n < 0 ? 0 : n;
}

static const esp_partition_t *slot_partition(int slot) {
    if (slot < 0 || slot >= HAL_SLOT_COUNT) return NULL;
    return esp_partition_find_first((esp_partition_type_t)0x40, (esp_partition_subtype_t)slot, NULL);
}

uint32_t hal_slot_capacity(void) {
    const esp_partition_t *a = slot_partition(0), *b = slot_partition(1);
    if (!a || !b) return 0;
    return a->size < b->size ? a->size : b->size;
}

/* No module ships inside the app: the first one arrives by `ferry flash`. */
bool hal_factory_module(uint8_t **data, uint32_t *size) {
    (void)data;
    (void)size;
    return false;
}

bool hal_slot_open(int slot, uint32_t size) {
    const esp_partition_t *p = slot_partition(slot);
    uint32_t erase = (size + 4095u) & ~4095u; /* flash erases in 4 KiB sectors */
    return p && size <= p->size && esp_partition_erase_range(p, 0, erase) == ESP_OK;
}

bool hal_slot_write(int slot, uint32_t offset, const uint8_t *data, uint32_t len) {
    const esp_partition_t *p = slot_partition(slot);
    return p && esp_partition_write(p, offset, data, len) == ESP_OK;
}

/* The slot is only referenced once the boot record names it (board_activate_slot), which is the atomic
 * step; closing needs no rename. */
bool hal_slot_close(int slot, bool keep) {
    (void)keep;
    return slot_partition(slot) != NULL;
}

bool hal_slot_read(int slot, uint32_t size, uint8_t **data) {
    const esp_partition_t *p = slot_partition(slot);
    if (!p || size == 0 || size > p->size) return false;
    uint8_t *buf = malloc(size);
    if (!buf) return false;
    if (esp_partition_read(p, 0, buf, size) != ESP_OK) {
        free(buf);
        return false;
    }
    *data = buf;
    return true;
}

void hal_esp32_init(void) {
    boot_us = esp_timer_get_time();
    uart_config_t u = { .baud_rate = CONFIG_FERRY_UART_BAUD, .data_bits = UART_DATA_8_BITS, .parity = UART_PARITY_DISABLE,
                        .stop_bits = UART_STOP_BITS_1, .flow_ctrl = UART_HW_FLOWCTRL_DISABLE, .source_clk = UART_SCLK_DEFAULT };
    ESP_ERROR_CHECK(uart_driver_install(CONFIG_FERRY_UART_NUM, 8192, 8192, 0, NULL, 0));
    ESP_ERROR_CHECK(uart_param_config(CONFIG_FERRY_UART_NUM, &u));
    ESP_ERROR_CHECK(uart_set_pin(CONFIG_FERRY_UART_NUM, CONFIG_FERRY_UART_TX_GPIO, CONFIG_FERRY_UART_RX_GPIO, UART_PIN_NO_CHANGE, UART_PIN_NO_CHANGE));
    gpio_reset_pin(CONFIG_FERRY_RELAY_GPIO);
    gpio_set_direction(CONFIG_FERRY_RELAY_GPIO, GPIO_MODE_OUTPUT);
    gpio_set_level(CONFIG_FERRY_RELAY_GPIO, 0); /* safe state until the module decides */
#if SOC_TEMP_SENSOR_SUPPORTED
    temperature_sensor_config_t t = TEMPERATURE_SENSOR_CONFIG_DEFAULT(-10, 80);
    if (temperature_sensor_install(&t, &tsens) != ESP_OK || temperature_sensor_enable(tsens) != ESP_OK) tsens = NULL;
#endif
    nvs_handle_t h;
    size_t n = sizeof device_id;
    if (nvs_open("ferry", NVS_READONLY, &h) == ESP_OK) {
        if (nvs_get_str(h, "device_id", device_id, &n) != ESP_OK) device_id[0] = 0;
        nvs_close(h);
    }
    if (!device_id[0]) { /* default id from the factory MAC: unique per chip */
        uint8_t mac[6] = { 0 };
        esp_read_mac(mac, ESP_MAC_WIFI_STA);
        snprintf(device_id, sizeof device_id, "esp32-%02x%02x%02x", mac[3], mac[4], mac[5]);
    }
#if !CONFIG_FERRY_SIGN_WITH_HMAC_PERIPHERAL
    key_len = sizeof key;
    if (nvs_open("ferry_key", NVS_READONLY, &h) != ESP_OK || nvs_get_blob(h, "hmac", key, &key_len) != ESP_OK) key_len = 0;
    else nvs_close(h);
    if (key_len < 32) ESP_LOGW(TAG, "no device key provisioned (NVS ferry_key/hmac): dev.sign returns UNAVAILABLE");
    has_downlink_key = key_len >= 32 && ferry_hkdf_sha256_32(key, key_len, "ferry/downlink/v1", device_id, downlink_key);
#else
    size_t dl = sizeof downlink_key;
    if (nvs_open("ferry_key", NVS_READONLY, &h) == ESP_OK) {
        has_downlink_key = nvs_get_blob(h, "downlink", downlink_key, &dl) == ESP_OK && dl == 32;
        nvs_close(h);
    }
#endif
    if (!has_downlink_key) ESP_LOGW(TAG, "no downlink key: signed commands are dropped");
}
