/* QEMU's RISC-V `virt` machine as the rv32 board sees it (QEMU hw/riscv/virt.c memory map, QEMU 7.2):
 * the NS16550A UART, the CLINT timer, the PLIC, and the first CFI flash bank. */
#ifndef FERRY_RV32_VIRT_H
#define FERRY_RV32_VIRT_H

#include <stdint.h>

#define VIRT_UART0 0x10000000u       /* NS16550A, byte registers */
#define VIRT_UART0_IRQ 10u           /* its PLIC source */
#define VIRT_CLINT 0x02000000u       /* SiFive CLINT: mtimecmp (hart 0) at +0x4000, mtime at +0xbff8 */
#define VIRT_CLINT_HZ 10000000u      /* mtime frequency (RISCV_ACLINT_DEFAULT_TIMEBASE_FREQ) */
#define VIRT_PLIC 0x0c000000u        /* SiFive PLIC: priorities, enables at +0x2000, context 0 at +0x200000 */
#define VIRT_FLASH0 0x20000000u      /* pflash0 (-drive if=pflash,unit=0): Intel CFI (pflash_cfi01) */
#define VIRT_FLASH0_SIZE 0x2000000u  /* 32 MiB, fixed by the machine */
#define VIRT_FLASH_SECTOR 0x40000u   /* 256 KiB erase blocks */

static inline void mmio_w8(uintptr_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static inline uint8_t mmio_r8(uintptr_t a) { return *(volatile uint8_t *)a; }
static inline void mmio_w32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline uint32_t mmio_r32(uintptr_t a) { return *(volatile uint32_t *)a; }

/* Control and status registers. -march=rv32imc without zicsr: name the extension for these lines only. */
#define CSR_READ(name)                                                                                 \
    ({                                                                                                 \
        uint32_t v_;                                                                                   \
        __asm__ volatile(".option push\n.option arch, +zicsr\ncsrr %0, " #name "\n.option pop" : "=r"(v_)); \
        v_;                                                                                            \
    })
#define CSR_SET(name, bits) \
    __asm__ volatile(".option push\n.option arch, +zicsr\ncsrs " #name ", %0\n.option pop" ::"r"(bits))

/* minstret counts retired instructions; with QEMU's -icount it is QEMU's exact instruction count. */
static inline uint64_t rv32_instret(void) {
    uint32_t hi, lo;
    do {
        hi = CSR_READ(minstreth);
        lo = CSR_READ(minstret);
    } while (hi != CSR_READ(minstreth));
    return (uint64_t)hi << 32 | lo;
}

static inline uint64_t rv32_mtime(void) {
    uint32_t hi, lo;
    do {
        hi = mmio_r32(VIRT_CLINT + 0xbffc);
        lo = mmio_r32(VIRT_CLINT + 0xbff8);
    } while (hi != mmio_r32(VIRT_CLINT + 0xbffc));
    return (uint64_t)hi << 32 | lo;
}

#endif /* FERRY_RV32_VIRT_H */
