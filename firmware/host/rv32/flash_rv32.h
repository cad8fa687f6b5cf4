/* The rv32 board's flash (QEMU pflash0, a file on the host that survives restarts and kill -9: QEMU
 * writes every programmed word through to it). Layout, in 256 KiB erase blocks:
 *   0      the boot vector (with pflash0 present QEMU starts the hart at the flash's first word, as a
 *          chip's ROM jumps to its bootloader: two instructions jumping to the image at 0x80000000),
 *          then at FLASH_CONFIG_OFFSET the provisioning text written by the launcher
 *          (rv32/ferry-board-rv32.sh): "name value" lines
 *   1      the factory module (its size is the provisioning line "factory_size")
 *   2, 3   the A/B module slots
 *   4..19  eight persistent records (src/hal.h hal_persist_*), two blocks each */
#ifndef FERRY_RV32_FLASH_H
#define FERRY_RV32_FLASH_H

#include <stdbool.h>
#include <stdint.h>

#include "virt.h"

#define FLASH_CONFIG_BLOCK 0u
#define FLASH_CONFIG_OFFSET 16u
#define FLASH_FACTORY_BLOCK 1u
#define FLASH_SLOT_BLOCK 2u
#define FLASH_RECORD_BLOCK 4u
#define FLASH_RECORD_PAIRS 8u

static inline const uint8_t *flash_block(uint32_t block) { return (const uint8_t *)(uintptr_t)(VIRT_FLASH0 + block * VIRT_FLASH_SECTOR); }

/* The provisioning text (NUL-terminated copy, at most cap - 1 bytes). */
static inline void flash_config_text(char *out, uint32_t cap) {
    const uint8_t *p = flash_block(FLASH_CONFIG_BLOCK) + FLASH_CONFIG_OFFSET;
    uint32_t n = 0;
    while (n + 1 < cap && p[n] != 0 && p[n] != 0xff) {
        out[n] = (char)p[n];
        n++;
    }
    out[n] = 0;
}
void flash_set_factory_size(uint32_t size);

#endif /* FERRY_RV32_FLASH_H */
