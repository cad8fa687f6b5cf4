/* src/crypto.h for the rv32 board, which has no mbedTLS build: SHA-256 as FIPS 180-4 §6.2 specifies it
 * and HMAC as RFC 2104 §2 does, in portable C. The hw-tests check it end to end: every signed
 * message verifies with jose and equals the Node emulated board's byte for byte, and uploads are
 * accepted by their SHA-256. */
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

struct ferry_sha256_ctx {
    uint32_t h[8];
    uint64_t bytes;
    uint8_t block[64];
    size_t fill;
};

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
    0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
    0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
    0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

static void compress(uint32_t h[8], const uint8_t b[64]) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 | (uint32_t)b[4 * i + 2] << 8 | b[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], c1 = h[1], c2 = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & c1) ^ (a & c2) ^ (c1 & c2));
        k = g;
        g = f;
        f = e;
        e = d + t1;
        d = c2;
        c2 = c1;
        c1 = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += c1;
    h[2] += c2;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += k;
}

static void init(ferry_sha256_ctx *c) {
    static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
    memcpy(c->h, iv, sizeof iv);
    c->bytes = 0;
    c->fill = 0;
}

static void update(ferry_sha256_ctx *c, const uint8_t *p, size_t n) {
    c->bytes += n;
    while (n > 0) {
        size_t take = 64 - c->fill < n ? 64 - c->fill : n;
        memcpy(c->block + c->fill, p, take);
        c->fill += take;
        p += take;
        n -= take;
        if (c->fill == 64) {
            compress(c->h, c->block);
            c->fill = 0;
        }
    }
}

static void final(ferry_sha256_ctx *c, uint8_t out[32]) {
    uint64_t bits = c->bytes * 8;
    static const uint8_t pad = 0x80, zero = 0;
    update(c, &pad, 1);
    while (c->fill != 56) update(c, &zero, 1);
    uint8_t len[8];
    for (int i = 0; i < 8; i++) len[i] = (uint8_t)(bits >> (56 - 8 * i));
    update(c, len, 8);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 4; j++) out[4 * i + j] = (uint8_t)(c->h[i] >> (24 - 8 * j));
}

bool ferry_sha256(const uint8_t *data, size_t len, uint8_t out[32]) {
    ferry_sha256_ctx c;
    init(&c);
    update(&c, data, len);
    final(&c, out);
    return true;
}

bool ferry_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len, uint8_t mac[32]) {
    uint8_t k[64] = { 0 }, pad[64], inner[32];
    if (key_len > 64) ferry_sha256(key, key_len, k); /* RFC 2104 §2: a key longer than B is hashed first */
    else memcpy(k, key, key_len);
    ferry_sha256_ctx c;
    for (int i = 0; i < 64; i++) pad[i] = k[i] ^ 0x36;
    init(&c);
    update(&c, pad, 64);
    update(&c, data, len);
    final(&c, inner);
    for (int i = 0; i < 64; i++) pad[i] = k[i] ^ 0x5c;
    init(&c);
    update(&c, pad, 64);
    update(&c, inner, 32);
    final(&c, mac);
    return true;
}

ferry_sha256_ctx *ferry_sha256_begin(void) {
    ferry_sha256_ctx *c = malloc(sizeof *c);
    if (c) init(c);
    return c;
}

bool ferry_sha256_update(ferry_sha256_ctx *ctx, const uint8_t *data, size_t len) {
    if (!ctx) return false;
    update(ctx, data, len);
    return true;
}

bool ferry_sha256_end(ferry_sha256_ctx *ctx, uint8_t out[32]) {
    if (!ctx) return false;
    if (out) final(ctx, out);
    free(ctx);
    return true;
}
