/* Flash for the rv32 board (layout: flash_rv32.h): Intel CFI commands on QEMU's pflash_cfi01, the
 * module slots and the persistent records of src/hal.h.
 *
 * A record is written to whichever of its two blocks does not hold the newest copy: erase, program
 * the data, then the header with its magic word LAST. A power cut at any point leaves the old copy
 * (or a block without magic, which does not count), so hal_persist_write replaces a record
 * atomically, as src/board.c needs for the epoch and the boot record. */
#include <stdlib.h>
#include <string.h>

#include "flash_rv32.h"
#include "frame.h"
#include "hal.h"

/* Intel/Sharp command set (QEMU hw/block/pflash_cfi01.c). The bank is 32 bits wide: commands are
 * 32-bit writes, and so is every program operation. */
#define CFI_PROGRAM 0x40u
#define CFI_ERASE 0x20u
#define CFI_CONFIRM 0xd0u
#define CFI_READ_ARRAY 0xffu
#define CFI_STATUS_READY 0x80u
#define CFI_STATUS_ERROR 0x30u

static bool cfi_wait(uintptr_t a) {
    uint32_t s;
    while (!((s = mmio_r32(a)) & CFI_STATUS_READY)) {
    }
    mmio_w32(a, CFI_READ_ARRAY);
    return (s & CFI_STATUS_ERROR) == 0;
}

static bool cfi_erase(uint32_t block) {
    uintptr_t a = (uintptr_t)flash_block(block);
    mmio_w32(a, CFI_ERASE);
    mmio_w32(a, CFI_CONFIRM);
    return cfi_wait(a);
}

static bool cfi_program_word(uintptr_t a, uint32_t v) {
    mmio_w32(a, CFI_PROGRAM);
    mmio_w32(a, v);
    return cfi_wait(a);
}

/* Programs len bytes at addr (any alignment): the bytes of a word not being written keep their value. */
static bool cfi_program(uintptr_t addr, const uint8_t *data, uint32_t len) {
    while (len > 0) {
        uintptr_t w = addr & ~(uintptr_t)3;
        uint32_t off = (uint32_t)(addr - w), n = 4 - off < len ? 4 - off : len;
        uint32_t v = mmio_r32(w);
        memcpy((uint8_t *)&v + off, data, n);
        if (!cfi_program_word(w, v)) return false;
        addr += n;
        data += n;
        len -= n;
    }
    return true;
}

/* ---- provisioning and the factory module ---- */

static uint32_t factory_size;
void flash_set_factory_size(uint32_t size) { factory_size = size; }

bool hal_factory_module(uint8_t **data, uint32_t *size) {
    if (factory_size == 0 || factory_size > VIRT_FLASH_SECTOR) return false;
    /* WAMR's loader may patch the image: it gets a RAM copy, as on an ESP32 reading its partition. */
    uint8_t *buf = malloc(factory_size);
    if (!buf) return false;
    memcpy(buf, flash_block(FLASH_FACTORY_BLOCK), factory_size);
    *data = buf;
    *size = factory_size;
    return true;
}

/* ---- module slots ---- */

static int open_slot = -1;

uint32_t hal_slot_capacity(void) { return VIRT_FLASH_SECTOR; }

bool hal_slot_open(int slot, uint32_t size) {
    if (open_slot >= 0 || slot < 0 || slot >= HAL_SLOT_COUNT || size > VIRT_FLASH_SECTOR) return false;
    if (!cfi_erase(FLASH_SLOT_BLOCK + (uint32_t)slot)) return false;
    open_slot = slot;
    return true;
}

bool hal_slot_write(int slot, uint32_t offset, const uint8_t *data, uint32_t len) {
    if (slot != open_slot || offset > VIRT_FLASH_SECTOR || len > VIRT_FLASH_SECTOR - offset) return false;
    return cfi_program((uintptr_t)flash_block(FLASH_SLOT_BLOCK + (uint32_t)slot) + offset, data, len);
}

/* The slot's bytes are final once written: the boot record, written after this, is what makes them
 * the module to run. */
bool hal_slot_close(int slot, bool keep) {
    if (slot != open_slot) return false;
    open_slot = -1;
    return keep ? true : cfi_erase(FLASH_SLOT_BLOCK + (uint32_t)slot);
}

bool hal_slot_read(int slot, uint32_t size, uint8_t **data) {
    if (slot < 0 || slot >= HAL_SLOT_COUNT || size > VIRT_FLASH_SECTOR) return false;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return false;
    memcpy(buf, flash_block(FLASH_SLOT_BLOCK + (uint32_t)slot), size);
    *data = buf;
    return true;
}

/* ---- persistent records ---- */

#define RECORD_MAGIC 0x31435246u /* "FRC1" */
#define RECORD_MAX (VIRT_FLASH_SECTOR - sizeof(record_header_t))

typedef struct {
    uint32_t magic, seq, len, crc;
    char key[64];
} record_header_t;

static const record_header_t *header_of(uint32_t block) { return (const record_header_t *)flash_block(block); }

static bool key_ok(const char *key) {
    size_t n = strlen(key);
    if (n == 0 || n > 64) return false;
    for (size_t i = 0; i < n; i++) {
        char c = key[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')) return false;
    }
    return true;
}

static bool names(const record_header_t *h, const char *key) {
    return h->magic == RECORD_MAGIC && strncmp(h->key, key, sizeof h->key) == 0;
}

static bool valid(const record_header_t *h, const char *key) {
    return names(h, key) && h->len <= RECORD_MAX && frame_crc32((const uint8_t *)(h + 1), h->len) == h->crc;
}

/* The pair of blocks that holds key, else a free pair, else -1. */
static int pair_of(const char *key, bool allocate) {
    int free_pair = -1;
    for (uint32_t p = 0; p < FLASH_RECORD_PAIRS; p++) {
        const record_header_t *a = header_of(FLASH_RECORD_BLOCK + 2 * p), *b = header_of(FLASH_RECORD_BLOCK + 2 * p + 1);
        if (names(a, key) || names(b, key)) return (int)p;
        if (free_pair < 0 && a->magic != RECORD_MAGIC && b->magic != RECORD_MAGIC) free_pair = (int)p;
    }
    return allocate ? free_pair : -1;
}

/* The block of the pair with the newest valid copy, or -1. */
static int newest(int pair, const char *key) {
    uint32_t a = FLASH_RECORD_BLOCK + 2 * (uint32_t)pair, b = a + 1;
    bool va = valid(header_of(a), key), vb = valid(header_of(b), key);
    if (va && vb) return header_of(a)->seq - header_of(b)->seq < 0x80000000u ? (int)a : (int)b; /* wrap-safe */
    return va ? (int)a : vb ? (int)b : -1;
}

bool hal_persist_write(const char *key, const void *data, size_t size) {
    if (!key_ok(key) || size > RECORD_MAX) return false;
    int pair = pair_of(key, true);
    if (pair < 0) {
        hal_log(HAL_LOG_ERROR, "flash: no room for record %s (%u pairs)", key, FLASH_RECORD_PAIRS);
        return false;
    }
    int cur = newest(pair, key);
    uint32_t first = FLASH_RECORD_BLOCK + 2 * (uint32_t)pair;
    uint32_t target = cur == (int)first ? first + 1 : first;
    record_header_t h;
    memset(&h, 0, sizeof h);
    h.magic = RECORD_MAGIC;
    h.seq = cur >= 0 ? header_of((uint32_t)cur)->seq + 1 : 1;
    h.len = (uint32_t)size;
    h.crc = frame_crc32(data, size);
    memcpy(h.key, key, strlen(key)); /* key_ok: at most 64 bytes; the rest stays 0 */
    uintptr_t base = (uintptr_t)flash_block(target);
    return cfi_erase(target) && cfi_program(base + sizeof h, data, (uint32_t)size) &&
           cfi_program(base + 4, (const uint8_t *)&h + 4, sizeof h - 4) && cfi_program(base, (const uint8_t *)&h, 4);
}

long hal_persist_read(const char *key, void *buf, size_t cap) {
    if (!key_ok(key)) return -2;
    int pair = pair_of(key, false);
    int block = pair < 0 ? -1 : newest(pair, key);
    if (block < 0) return -1;
    const record_header_t *h = header_of((uint32_t)block);
    if (h->len <= cap) memcpy(buf, h + 1, h->len);
    return (long)h->len;
}
