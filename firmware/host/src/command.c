/* command.h: verification in the order of verifyDownlink (packages/message/src/downlink.ts): shape and
 * header, issuer (the cloud), MAC (constant time), audience, event; then the replay window and the
 * expiry, which are answered rather than dropped because the token is authentic. */
#include "command.h"

#include <string.h>

#include "board.h"
#include "crypto.h"
#include "ferry_abi.h"
#include "hal.h"

#define CLOUD_ID "ferry-cloud"
#define HEADER_MAX 256

static uint32_t dropped;
uint32_t command_dropped(void) { return dropped; }

/* ---- base64url (RFC 4648 §5), no padding ---- */
static int b64val(uint8_t c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '-' ? 62 : c == '_' ? 63 : -1;
}

/* Decoded length, or -1 on a character outside the alphabet, a bad length, or no room. */
static long b64url_decode(const uint8_t *in, size_t n, uint8_t *out, size_t cap) {
    if (n % 4 == 1) return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64val(in[i]);
        if (v < 0) return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap) return -1;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return (long)o;
}

/* ---- a JSON scanner for the flat objects of a header and a body: bounded depth, no allocation ---- */
typedef struct {
    const uint8_t *p;
    size_t n;
} span_t;

static size_t ws(const uint8_t *p, size_t n, size_t i) {
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r')) i++;
    return i;
}

static size_t skip_string(const uint8_t *p, size_t n, size_t i) { /* i at the quote; 0 when malformed */
    for (i++; i < n; i++) {
        if (p[i] == '"') return i + 1;
        if (p[i] < 0x20) return 0;
        if (p[i] == '\\') i++;
    }
    return 0;
}

static size_t skip_value(const uint8_t *p, size_t n, size_t i, int depth) { /* index after it; 0 when malformed */
    i = ws(p, n, i);
    if (i >= n) return 0;
    if (p[i] == '"') return skip_string(p, n, i);
    if (p[i] == '{' || p[i] == '[') {
        uint8_t close = p[i] == '{' ? '}' : ']';
        bool obj = p[i] == '{';
        if (depth >= 16) return 0;
        i = ws(p, n, i + 1);
        if (i < n && p[i] == close) return i + 1;
        for (;;) {
            if (obj) {
                i = ws(p, n, i);
                if (i >= n || p[i] != '"' || !(i = skip_string(p, n, i))) return 0;
                i = ws(p, n, i);
                if (i >= n || p[i] != ':') return 0;
                i++;
            }
            if (!(i = skip_value(p, n, i, depth + 1))) return 0;
            i = ws(p, n, i);
            if (i < n && p[i] == close) return i + 1;
            if (i >= n || p[i] != ',') return 0;
            i++;
        }
    }
    size_t s = i;
    while (i < n && !strchr(",}] \t\r\n", p[i])) i++;
    return i > s ? i : 0;
}

/* The value of top-level member `key` of the object in p (the last one, as JSON.parse keeps). The whole
 * object is checked: false when it is malformed or has trailing bytes. v->p NULL when absent. */
static bool member(const uint8_t *p, size_t n, const char *key, span_t *v) {
    size_t kl = strlen(key), i = ws(p, n, 0);
    v->p = NULL;
    v->n = 0;
    if (i >= n || p[i] != '{') return false;
    i = ws(p, n, i + 1);
    if (i < n && p[i] == '}') return ws(p, n, i + 1) == n;
    for (;;) {
        i = ws(p, n, i);
        size_t k = i < n && p[i] == '"' ? skip_string(p, n, i) : 0;
        if (!k) return false;
        bool match = k - i - 2 == kl && memcmp(p + i + 1, key, kl) == 0;
        i = ws(p, n, k);
        if (i >= n || p[i] != ':') return false;
        size_t vs = ws(p, n, i + 1), ve = skip_value(p, n, vs, 1);
        if (!ve) return false;
        if (match) {
            v->p = p + vs;
            v->n = ve - vs;
        }
        i = ws(p, n, ve);
        if (i < n && p[i] == '}') return ws(p, n, i + 1) == n;
        if (i >= n || p[i] != ',') return false;
        i++;
    }
}

static bool is_string(const span_t *v, const char *want) {
    size_t wl = strlen(want);
    return v->p && v->n == wl + 2 && v->p[0] == '"' && memcmp(v->p + 1, want, wl) == 0;
}

/* A non-negative integer up to max; false for anything else (fractions, exponents, signs). */
static bool as_uint(const span_t *v, uint64_t max, uint64_t *out) {
    if (!v->p || v->n == 0 || v->n > 16) return false;
    uint64_t x = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (v->p[i] < '0' || v->p[i] > '9') return false;
        x = x * 10 + (uint64_t)(v->p[i] - '0');
    }
    *out = x;
    return x <= max;
}

/* A NumericDate (RFC 7519 §2: seconds, possibly with a fraction) in milliseconds; false for anything else
 * (signs, exponents, more than 15 integer digits). Fractions past milliseconds are cut. */
static bool as_ms(const span_t *v, int64_t *out) {
    size_t i = 0;
    int64_t s = 0, ms = 0;
    if (!v->p || v->n == 0) return false;
    for (; i < v->n && v->p[i] >= '0' && v->p[i] <= '9'; i++) {
        if (i >= 15) return false;
        s = s * 10 + (v->p[i] - '0');
    }
    if (i == 0) return false;
    if (i < v->n) {
        if (v->p[i++] != '.' || i == v->n) return false;
        for (int64_t scale = 100; i < v->n; i++, scale /= 10) {
            if (v->p[i] < '0' || v->p[i] > '9') return false;
            ms += (v->p[i] - '0') * scale;
        }
    }
    *out = s * 1000 + ms;
    return true;
}

/* ---- the replay window: the highest (ep, sq) accepted, one record the module cannot reach ---- */
static bool window_fresh(uint32_t ep, uint32_t sq) {
    uint8_t r[8];
    if (hal_persist_read("cmdwin", r, sizeof r) != (long)sizeof r) return true; /* nothing accepted yet */
    uint32_t hep = (uint32_t)r[0] | (uint32_t)r[1] << 8 | (uint32_t)r[2] << 16 | (uint32_t)r[3] << 24;
    uint32_t hsq = (uint32_t)r[4] | (uint32_t)r[5] << 8 | (uint32_t)r[6] << 16 | (uint32_t)r[7] << 24;
    return ep > hep || (ep == hep && sq > hsq);
}

static bool window_accept(uint32_t ep, uint32_t sq) {
    uint8_t r[8];
    for (int i = 0; i < 4; i++) {
        r[i] = (uint8_t)(ep >> (8 * i));
        r[4 + i] = (uint8_t)(sq >> (8 * i));
    }
    return hal_persist_write("cmdwin", r, sizeof r);
}

static command_outcome_t drop(const char *why) {
    dropped++;
    hal_log(HAL_LOG_WARN, "command dropped: %s", why);
    return COMMAND_DROPPED;
}

command_outcome_t command_deliver(const uint8_t *token, size_t len, bool *reboot) {
    static uint8_t body[FERRY_LIMIT_EMIT_MAX];
    uint8_t header[HEADER_MAX], mac[32], want[32];
    *reboot = false;
    if (len == 0 || len > FERRY_LIMIT_EMIT_MAX) return drop("size");
    const uint8_t *d1 = memchr(token, '.', len);
    const uint8_t *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
    if (!d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token))) return drop("not three segments");
    long hl = b64url_decode(token, (size_t)(d1 - token), header, sizeof header);
    span_t alg, kid, ep, sq, grp;
    uint64_t epv, sqv;
    if (hl <= 0 || !member(header, (size_t)hl, "alg", &alg) || !is_string(&alg, "HS256")) return drop("header");
    member(header, (size_t)hl, "kid", &kid);
    member(header, (size_t)hl, "ep", &ep);
    member(header, (size_t)hl, "sq", &sq);
    member(header, (size_t)hl, "grp", &grp);
    if (!is_string(&kid, CLOUD_ID)) return drop("not from the cloud");
    if (!as_uint(&ep, 0xffffffffu, &epv) || !as_uint(&sq, 0xffffffffu, &sqv) || grp.p) return drop("header fields");
    /* The MAC covers the two first segments as sent. */
    if (b64url_decode(d2 + 1, len - (size_t)(d2 + 1 - token), mac, sizeof mac) != 32) return drop("signature length");
    if (!hal_downlink_mac(token, (size_t)(d2 - token), want)) return drop("no downlink key");
    if (!ferry_equal_ct(mac, want, 32)) return drop("bad signature");
    long bl = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), body, sizeof body);
    span_t iss, aud, ev, exp, d;
    if (bl <= 0 || !member(body, (size_t)bl, "iss", &iss) || !is_string(&iss, CLOUD_ID)) return drop("body");
    member(body, (size_t)bl, "aud", &aud);
    member(body, (size_t)bl, "ev", &ev);
    member(body, (size_t)bl, "exp", &exp);
    member(body, (size_t)bl, "d", &d);
    if (!is_string(&aud, hal_device_id())) return drop("wrong audience");
    if (!is_string(&ev, "cmd")) return drop("not a command");
    if (!d.p || d.n > FERRY_LIMIT_COMMAND_MAX) return drop("no body");

    /* Authentic and for this board: from here on it is answered. */
    int32_t verdict = FERRY_VERDICT_APPLY;
    int64_t exp_ms = 0;
    if (!window_fresh((uint32_t)epv, (uint32_t)sqv)) verdict = FERRY_VERDICT_REPLAYED;
    else if (!window_accept((uint32_t)epv, (uint32_t)sqv)) return drop("cannot persist the replay window");
    else if (!as_ms(&exp, &exp_ms)) verdict = FERRY_VERDICT_INVALID;
    else if (hal_now_ms() >= exp_ms + COMMAND_LEEWAY_MS) verdict = FERRY_VERDICT_EXPIRED;

    int32_t result = 0;
    char err[256];
    if (!board_command(verdict, d.p, d.n, &result, err, sizeof err)) {
        /* A module that trapped is re-instantiated, as the watchdog does after a tick; the command stays consumed. */
        *reboot = board_app()->live && board_app()->dead;
        return drop(err);
    }
    if (result < 0) return drop("the module found no valid id");
    *reboot = result == FERRY_COMMAND_REBOOT;
    return COMMAND_DELIVERED;
}
