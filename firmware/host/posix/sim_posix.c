/* The posix board's hardware, simulated IDENTICALLY to the Node emulated board (firmware/emulator/:
 * clock.ts, rng.ts, room.ts, board.ts ports): same xorshift32 noise drawn on every channel-0 read,
 * same explicit Euler steps of 1 s in the same operation order, same rounding as JavaScript's
 * Math.round. With the same seed and options both boards emit byte-identical messages
 * (hw-tests/identity.test.ts). Build with -ffp-contract=off so no fused multiply-add changes a bit. */
#define _POSIX_C_SOURCE 200809L

#include "sim_posix.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "ferry_abi.h"
#include "hal.h"
#include "hal_test.h"

static sim_config_t cfg;
static struct {
    int64_t wall_ms, boot_at_ms; /* VirtualClock */
    int64_t mono_boot_ms;        /* real mode: monotonic time at the last boot */
    uint32_t rng;
    double temp_c;
    bool furnace;
    uint8_t override_mode; /* 0 room, 1 value, 2 fault */
    int32_t override_value;
} sim;
static uint8_t key[64];
static size_t key_len;

void sim_defaults(sim_config_t *c) {
    memset(c, 0, sizeof *c);
    c->virtual_clock = true;
    c->start_ms = 1767225600000LL; /* Date.UTC(2026, 0, 1): DEFAULT_START_MS */
    c->seed = 1;
    c->room = (sim_room_params_t){ .initial_c = 19, .outside_c = 5, .loss_per_s = 1.0 / 7200, .heat_c_per_s = 0.004, .noise_c = 0.05 };
    strcpy(c->device_id, "th-01");
}

static int64_t clock_ms(clockid_t id) {
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0) return 0;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sim_configure(const sim_config_t *c) {
    cfg = *c;
    sim.wall_ms = sim.boot_at_ms = c->start_ms;
    sim.mono_boot_ms = clock_ms(CLOCK_MONOTONIC);
    sim.rng = c->seed ? c->seed : 0x9e3779b9u; /* rng.ts: zero is xorshift's fixed point */
    sim.temp_c = c->room.initial_c;
}

/* xorshift32 (Marsaglia, "Xorshift RNGs", J. Stat. Softw. 2003), shifts 13/17/5 as in rng.ts. */
static uint32_t rng_next(void) {
    uint32_t x = sim.rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    sim.rng = x;
    return x;
}

/* rng.ts symmetric(): nextU32() / 2 ** 31 - 1, in the same two double operations. */
static double rng_symmetric(void) { return (double)rng_next() / 2147483648.0 - 1.0; }

/* JavaScript Math.round (ECMA-262 §21.3.2.28): the nearest integer, ties towards +Infinity.
 * C's round() breaks ties away from zero (-2.5 -> -3, JS gives -2), and floor(x + 0.5) is wrong for
 * 0.49999999999999994 (the sum rounds up to 1.0); x - floor(x) is exact, so compare that instead. */
static double js_round(double x) {
    double f = floor(x);
    return x - f >= 0.5 ? f + 1.0 : f;
}

/* room.ts step(): explicit Euler at 1 s, same expression order. */
static void room_step(int64_t seconds) {
    const sim_room_params_t *p = &cfg.room;
    for (int64_t i = 0; i < seconds; i++) sim.temp_c += (p->outside_c - sim.temp_c) * p->loss_per_s + (sim.furnace ? p->heat_c_per_s : 0);
}

int64_t hal_now_ms(void) { return cfg.virtual_clock ? sim.wall_ms : clock_ms(CLOCK_REALTIME); }
int64_t hal_uptime_ms(void) {
    return cfg.virtual_clock ? sim.wall_ms - sim.boot_at_ms : clock_ms(CLOCK_MONOTONIC) - sim.mono_boot_ms;
}

void hal_on_boot(void) { /* VirtualClock.reboot(): uptime restarts, wall time goes on */
    sim.boot_at_ms = sim.wall_ms;
    sim.mono_boot_ms = clock_ms(CLOCK_MONOTONIC);
}

void hal_test_advance(uint32_t ms) { /* EmulatedBoard.advance */
    sim.wall_ms += ms;
    room_step((int64_t)js_round((double)ms / 1000));
}

void sim_realtime_step(uint32_t elapsed_ms) { room_step((int64_t)js_round((double)elapsed_ms / 1000)); }

void hal_test_sensor(uint8_t mode, int32_t value) {
    sim.override_mode = mode;
    sim.override_value = value;
}

int32_t hal_sensor_read(int32_t channel, int32_t *centi) {
    if (channel != 0) return FERRY_STATUS_NO_SUCH_CHANNEL;
    double noise = rng_symmetric() * cfg.room.noise_c; /* drawn on every read, as board.ts does */
    if (sim.override_mode == 2) return FERRY_STATUS_DEVICE_FAULT;
    if (sim.override_mode == 1) {
        *centi = sim.override_value;
        return FERRY_STATUS_OK;
    }
    double v = js_round((sim.temp_c + noise) * 100);
    if (!(v >= INT32_MIN && v <= INT32_MAX)) return FERRY_STATUS_DEVICE_FAULT;
    *centi = (int32_t)v;
    return FERRY_STATUS_OK;
}

int32_t hal_actuator_set(int32_t channel, int32_t value) {
    if (channel != 0) return FERRY_STATUS_NO_SUCH_CHANNEL;
    if (value != 0 && value != 1) return FERRY_STATUS_BAD_ARGUMENT;
    sim.furnace = value == 1;
    return FERRY_STATUS_OK;
}

int32_t hal_actuator_get(int32_t channel) { return channel == 0 && sim.furnace ? 1 : 0; }

const char *hal_device_id(void) { return cfg.device_id; }

bool hal_sign(const uint8_t *data, size_t len, uint8_t mac[32]) {
    return key_len >= 32 && ferry_hmac_sha256(key, key_len, data, len, mac);
}

bool hal_downlink_mac(const uint8_t *data, size_t len, uint8_t mac[32]) {
    /* Derived on each use from the key and the id, so the order of --key-file and --device-id does not matter. */
    uint8_t dk[32];
    bool ok = key_len >= 32 && ferry_hkdf_sha256_32(key, key_len, "ferry/downlink/v1", cfg.device_id, dk) &&
              ferry_hmac_sha256(dk, sizeof dk, data, len, mac);
    memset(dk, 0, sizeof dk);
    return ok;
}

static int hexval(int c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; }

bool sim_load_key(const char *path, char *err, unsigned err_size) {
    uint8_t *data;
    uint32_t size;
    if (!hal_read_file(path, &data, &size, err, err_size)) return false;
    /* Hex if every non-space byte is a hex digit and there is an even number of them; else raw bytes. */
    size_t digits = 0;
    bool hex = true;
    for (uint32_t i = 0; i < size && hex; i++) {
        if (isspace(data[i])) continue;
        if (hexval(data[i]) < 0) hex = false;
        else digits++;
    }
    hex = hex && digits % 2 == 0 && digits > 0;
    size_t n = hex ? digits / 2 : size;
    if (n < 32 || n > sizeof key) {
        snprintf(err, err_size, "%s: the key must be 32..%u bytes (RFC 7518 §3.2), got %u", path, (unsigned)sizeof key, (unsigned)n);
        hal_free_file(data);
        key_len = 0;
        return false;
    }
    if (hex) {
        size_t k = 0, d = 0;
        for (uint32_t i = 0; i < size; i++) {
            if (isspace(data[i])) continue;
            int v = hexval(data[i]);
            if (d++ % 2 == 0) key[k] = (uint8_t)(v << 4);
            else key[k++] |= (uint8_t)v;
        }
    } else {
        memcpy(key, data, n);
    }
    hal_free_file(data);
    key_len = n;
    return true;
}

void sim_set_key(const uint8_t *k, unsigned len) {
    key_len = len > sizeof key ? sizeof key : len;
    memcpy(key, k, key_len);
}
