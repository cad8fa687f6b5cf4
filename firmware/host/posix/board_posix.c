/* `ferry-board serve`: the posix board. Runs a module on WAMR like the ESP32 does, speaks the serial
 * protocol (docs/serial-protocol.md) on a pseudo-terminal it creates (its path is printed on stdout as
 * "serial /dev/pts/N"), keeps its epoch, state and module slots in --state-dir, signs with the key
 * in --key-file, and simulates the room exactly like the Node emulated board (sim_posix.c).
 * Virtual clock by default (time moves only by test-control frames); --tick-ms N ticks in real time. */
#define _DEFAULT_SOURCE /* cfmakeraw, ptsname */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "board.h"
#include "frame.h"
#include "hal.h"
#include "serial.h"
#include "sim_posix.h"
#include "store_posix.h"

extern int hal_log_threshold;
static int line_fd = -1; /* pty master */
static volatile sig_atomic_t stop;

static void on_signal(int sig) {
    (void)sig;
    stop = 1;
}

/* Non-blocking write of a whole frame; waits up to 2 s for a reader to drain the pty, then drops the
 * frame (nobody is listening: a UART would lose it too). */
void hal_serial_write(const uint8_t *data, size_t len) {
    while (line_fd >= 0 && len > 0) {
        ssize_t n = write(line_fd, data, len);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        struct pollfd p = { .fd = line_fd, .events = POLLOUT };
        if (n < 0 && errno == EAGAIN && poll(&p, 1, 2000) > 0) continue;
        hal_log(HAL_LOG_WARN, "serial: nobody reads the line, %u bytes dropped", (unsigned)len);
        return;
    }
}

static int usage(int rc) {
    fprintf(rc ? stderr : stdout,
            "usage: ferry-board serve --module FACTORY.wasm [options]\n"
            "  --state-dir DIR      epoch, state, module slots (default ./ferry-state)\n"
            "  --key-file PATH      device key: 64 hex digits or >= 32 raw bytes (none: dev.sign is UNAVAILABLE)\n"
            "  --device-id ID       message kid (default th-01)\n"
            "  --seed N             sensor-noise seed (default 1)\n"
            "  --start-ms MS        virtual wall clock at power-on (default 2026-01-01T00:00:00Z)\n"
            "  --room-initial C, --room-outside C, --room-loss K, --room-heat C, --room-noise C   room.ts parameters\n"
            "  --tick-ms N          real-time mode: real clocks, a tick every N ms (default: virtual clock, no ticks)\n"
            "  --no-autoboot        wait for a boot frame instead of booting at start (virtual clock only)\n"
            "  --test-control       accept test-control frames\n"
            "  --stack BYTES        wasm stack (default 8192)   --fuel N   instruction budget per call\n"
            "  --link PATH          also make PATH a symlink to the pty\n"
            "  --die-with-parent    exit when the parent process does (tests)\n"
            "  --quiet              log warnings and errors only\n");
    return rc;
}

static bool num(const char *s, double *out) {
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return s && *s && !*end && !errno;
}

static bool open_pty(char *name, size_t size, int *slave) {
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0 || !ptsname(m)) return false;
    snprintf(name, size, "%s", ptsname(m));
    /* Keep the slave open ourselves: the master then never sees EIO/HUP when a client closes the port,
     * and the raw mode set here stays while nobody has it open. Raw = no echo, no CR/LF mapping: the
     * line carries binary frames (termios(3), cfmakeraw). */
    *slave = open(name, O_RDWR | O_NOCTTY);
    struct termios t;
    if (*slave < 0 || tcgetattr(*slave, &t) != 0) return false;
    cfmakeraw(&t);
    if (tcsetattr(*slave, TCSANOW, &t) != 0) return false;
    fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
    line_fd = m;
    return true;
}

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int board_posix_main(int argc, char **argv) {
    sim_config_t sim;
    sim_defaults(&sim);
    board_config_t cfg = { .stack_size = 8192, .max_pages = 0, .fuel = 100000000, .test_control = false, .virtual_clock = true };
    const char *module = NULL, *key_file = NULL, *link_path = NULL;
    uint32_t tick_ms = 0;
    bool autoboot = true;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double d = 0;
        bool takes = true, ok = true;
        if (!strcmp(o, "--help")) return usage(0);
        else if (!strcmp(o, "--no-autoboot")) { autoboot = false; takes = false; }
        else if (!strcmp(o, "--test-control")) { cfg.test_control = true; takes = false; }
        else if (!strcmp(o, "--die-with-parent")) { prctl(PR_SET_PDEATHSIG, SIGTERM); takes = false; }
        else if (!strcmp(o, "--quiet")) { hal_log_threshold = HAL_LOG_WARN; takes = false; }
        else if (!v) ok = false;
        else if (!strcmp(o, "--module")) module = v;
        else if (!strcmp(o, "--state-dir")) setenv("FERRY_STATE_DIR", v, 1);
        else if (!strcmp(o, "--key-file")) key_file = v;
        else if (!strcmp(o, "--link")) link_path = v;
        else if (!strcmp(o, "--device-id")) ok = strlen(v) >= 1 && strlen(v) <= 32 && strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == strlen(v) && snprintf(sim.device_id, sizeof sim.device_id, "%s", v) > 0;
        else if (!num(v, &d)) ok = false;
        else if (!strcmp(o, "--seed")) { ok = d >= 0 && d <= 4294967295.0; sim.seed = (uint32_t)d; }
        else if (!strcmp(o, "--start-ms")) { ok = d >= 0 && d < 9e15; sim.start_ms = (int64_t)d; }
        else if (!strcmp(o, "--room-initial")) sim.room.initial_c = d;
        else if (!strcmp(o, "--room-outside")) sim.room.outside_c = d;
        else if (!strcmp(o, "--room-loss")) sim.room.loss_per_s = d;
        else if (!strcmp(o, "--room-heat")) sim.room.heat_c_per_s = d;
        else if (!strcmp(o, "--room-noise")) sim.room.noise_c = d;
        else if (!strcmp(o, "--tick-ms")) { ok = d >= 10 && d <= 3600000; tick_ms = (uint32_t)d; }
        else if (!strcmp(o, "--stack")) { ok = d >= 1024 && d <= 1048576; cfg.stack_size = (uint32_t)d; }
        else if (!strcmp(o, "--fuel")) { ok = d >= 0 && d <= 2147483647.0; cfg.fuel = (int32_t)d; }
        else ok = false;
        if (!ok) {
            fprintf(stderr, "ferry-board serve: bad option %s %s\n", o, takes && v ? v : "");
            return usage(2);
        }
        if (takes) i++;
    }
    if (tick_ms) {
        sim.virtual_clock = false;
        cfg.virtual_clock = false;
        autoboot = true;
    }
    char err[512];
    sim_configure(&sim);
    store_set_factory(module);
    if (key_file && !sim_load_key(key_file, err, sizeof err)) {
        hal_log(HAL_LOG_ERROR, "%s", err);
        return 1;
    }
    char pty[256];
    int slave = -1;
    if (!open_pty(pty, sizeof pty, &slave)) {
        hal_log(HAL_LOG_ERROR, "cannot create a pseudo-terminal: %s", strerror(errno));
        return 1;
    }
    if (link_path) {
        unlink(link_path);
        if (symlink(pty, link_path) != 0) hal_log(HAL_LOG_WARN, "cannot link %s: %s", link_path, strerror(errno));
    }
    if (!board_init(&cfg, err, sizeof err)) {
        hal_log(HAL_LOG_ERROR, "%s", err);
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    printf("serial %s\n", pty);
    fflush(stdout);
    if (autoboot && !board_boot(err, sizeof err)) hal_log(HAL_LOG_ERROR, "boot: %s (waiting for an upload)", err);

    uint8_t buf[4096];
    int64_t next_tick = mono_ms() + tick_ms, last_step = mono_ms();
    while (!stop) {
        int timeout = -1;
        if (tick_ms) {
            int64_t left = next_tick - mono_ms();
            timeout = left < 0 ? 0 : (int)left;
        }
        struct pollfd p = { .fd = line_fd, .events = POLLIN };
        int r = poll(&p, 1, timeout);
        if (r < 0 && errno != EINTR) break;
        if (r > 0 && (p.revents & POLLIN)) {
            ssize_t n = read(line_fd, buf, sizeof buf);
            if (n > 0) board_feed(buf, (size_t)n);
        }
        if (tick_ms && mono_ms() >= next_tick) {
            int64_t now = mono_ms();
            sim_realtime_step((uint32_t)(now - last_step));
            last_step = now;
            next_tick += tick_ms;
            if (next_tick < now) next_tick = now + tick_ms;
            int32_t res;
            if (!board_tick(&res, err, sizeof err) && board_app()->live) {
                /* Like a hardware watchdog: a trapped module is re-instantiated, a new epoch. */
                hal_log(HAL_LOG_ERROR, "tick: %s; watchdog reset", err);
                if (!board_boot(err, sizeof err)) hal_log(HAL_LOG_ERROR, "boot: %s", err);
            }
        }
    }
    serial_upload_reset();
    board_destroy();
    if (link_path) unlink(link_path);
    close(slave);
    close(line_fd);
    return 0;
}
