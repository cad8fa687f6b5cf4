/* HKDF and a constant-time compare over ferry_hmac_sha256 (crypto.h): portable C that every board
 * compiles, whichever SHA-256 it has underneath (mbedTLS on posix and ESP-IDF, rv32/crypto_rv32.c on rv32). */
#include <string.h>

#include "crypto.h"

bool ferry_hkdf_sha256_32(const uint8_t *ikm, size_t ikm_len, const char *salt, const char *info, uint8_t out[32]) {
    /* RFC 5869 §2.2 extract, then §2.3 expand for L = 32: T(1) = HMAC(PRK, info | 0x01). */
    uint8_t prk[32], t[64 + 1];
    size_t info_len = strlen(info);
    if (info_len > 64) return false;
    memcpy(t, info, info_len);
    t[info_len] = 0x01;
    bool ok = ferry_hmac_sha256((const uint8_t *)salt, strlen(salt), ikm, ikm_len, prk) &&
              ferry_hmac_sha256(prk, sizeof prk, t, info_len + 1, out);
    memset(prk, 0, sizeof prk);
    return ok;
}

bool ferry_equal_ct(const uint8_t *a, const uint8_t *b, size_t len) {
    volatile uint8_t diff = 0;
    for (size_t i = 0; i < len; i++) diff |= (uint8_t)(a[i] ^ b[i]);
    return diff == 0;
}
