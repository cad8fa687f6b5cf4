/* The board HAL (src/hal.h) for the rv32 board, part 1: the 16550 UART as the Ferry line, the CLINT
 * as the clock, logs over semihosting (QEMU's stderr, through posix/log_stderr.c; a real board would
 * use a second UART). No file
 * system and no threads: mcu/hal_mcu.c, shared with the ESP32. Flash (slots, records, factory module): flash_rv32.c; the simulated room,
 * relay, key and virtual clock: posix/sim_posix.c, compiled unchanged, over the clock_gettime below. */
#include <semihost.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hal.h"
#include "hal_rv32.h"
#include "virt.h"

/* 16550 registers (byte offsets) and bits. */
#define UART_RBR 0u
#define UART_THR 0u
#define UART_IER 1u
#define UART_LSR 5u
#define UART_LSR_DR 0x01u
#define UART_LSR_THRE 0x20u

/* Results of the call and bench modes: semihosting's console (stdio here) is QEMU's stderr, where the
 * logs go, so results are appended to a host file the launcher names (semihosting SYS_OPEN, mode 8:
 * "a") and prints once QEMU has exited. */
static char out_path[256];
void rv32_set_out_path(const char *path) { snprintf(out_path, sizeof out_path, "%s", path); }

void rv32_stdout(const char *text) {
    static int fd = -1;
    if (fd < 0 && out_path[0]) fd = sys_semihost_open(out_path, 8);
    if (fd >= 0) sys_semihost_write(fd, text, strlen(text));
    else fputs(text, stderr);
}

/* WAMR's os_printf (platform/platform_rv32.c): its warnings and memory dumps. */
int ferry_rv32_vprintf(const char *format, va_list ap) { return vfprintf(stderr, format, ap); }

uint64_t ferry_rv32_uptime_us(void) { return rv32_mtime() / (VIRT_CLINT_HZ / 1000000u); }

/* sim_posix.c's clocks in real-time mode: monotonic = mtime since power-on; the wall clock starts at
 * the provisioned start time (the board has no RTC; a real one would take it from the gateway). */
static int64_t wall_start_ms;
void rv32_set_wall_start(int64_t ms) { wall_start_ms = ms; }

int clock_gettime(clockid_t id, struct timespec *ts) {
    uint64_t us = ferry_rv32_uptime_us();
    if (id == CLOCK_REALTIME) us += (uint64_t)wall_start_ms * 1000u;
    ts->tv_sec = (time_t)(us / 1000000u);
    ts->tv_nsec = (long)(us % 1000000u) * 1000;
    return 0;
}

/* ---- the UART ---- */

/* The FIFOs stay off: the 16550 empties them whenever FCR.FE changes, so switching them on would drop
 * what the gateway sent while the board started. Without them QEMU hands over one byte at a time and
 * holds the rest in the pty: slower, never lossy. */
void rv32_uart_init(void) {
    mmio_w8(VIRT_UART0 + UART_IER, 0x01); /* interrupt on received data (wakes the main loop's wfi) */
    /* PLIC: the UART's source at priority 1, enabled for hart 0's M-mode context, threshold 0. */
    mmio_w32(VIRT_PLIC + 4u * VIRT_UART0_IRQ, 1);
    mmio_w32(VIRT_PLIC + 0x2000u, 1u << VIRT_UART0_IRQ);
    mmio_w32(VIRT_PLIC + 0x200000u, 0);
}

size_t rv32_uart_read(uint8_t *buf, size_t cap) {
    size_t n = 0;
    while (n < cap && (mmio_r8(VIRT_UART0 + UART_LSR) & UART_LSR_DR)) buf[n++] = mmio_r8(VIRT_UART0 + UART_RBR);
    return n;
}

void rv32_irq_ack(void) {
    uint32_t id = mmio_r32(VIRT_PLIC + 0x200004u); /* claim ... */
    if (id) mmio_w32(VIRT_PLIC + 0x200004u, id);   /* ... and complete */
}

void hal_serial_write(const uint8_t *data, size_t len) {
    for (size_t i = 0; i < len; i++) {
        while (!(mmio_r8(VIRT_UART0 + UART_LSR) & UART_LSR_THRE)) {
        }
        mmio_w8(VIRT_UART0 + UART_THR, data[i]);
    }
}

/* Sleeps until the UART has data or mtime reaches deadline (an mtime value). Interrupts stay masked
 * globally (mstatus.MIE = 0): wfi still returns when one that mie enables is pending (RISC-V
 * privileged spec §3.3.3), so no trap handler is needed. */
void rv32_wait(uint64_t deadline) {
    mmio_w32(VIRT_CLINT + 0x4004, 0xffffffffu); /* no spurious match while the halves change */
    mmio_w32(VIRT_CLINT + 0x4000, (uint32_t)deadline);
    mmio_w32(VIRT_CLINT + 0x4004, (uint32_t)(deadline >> 32));
    CSR_SET(mie, (1u << 11) | (1u << 7)); /* MEIE (PLIC), MTIE (CLINT) */
    if (!(mmio_r8(VIRT_UART0 + UART_LSR) & UART_LSR_DR) && rv32_mtime() < deadline) __asm__ volatile("wfi");
}
