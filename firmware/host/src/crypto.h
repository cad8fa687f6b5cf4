/* SHA-256 and HMAC-SHA256 through mbedTLS's generic message-digest API (mbedtls/md.h), which exists
 * unchanged in mbedTLS 2.28 (Debian's libmbedtls-dev) and 3.x (ESP-IDF 5), so the posix board and
 * the ESP32 share this code. */
#ifndef FERRY_CRYPTO_H
#define FERRY_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool ferry_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len, uint8_t mac[32]);
bool ferry_sha256(const uint8_t *data, size_t len, uint8_t out[32]);
/* HKDF-SHA256 (RFC 5869) with one block of output: the 32-byte keys Ferry derives ('ferry/<purpose>/v1'). */
bool ferry_hkdf_sha256_32(const uint8_t *ikm, size_t ikm_len, const char *salt, const char *info, uint8_t out[32]);
/* Constant-time comparison (a MAC check must not tell how many bytes matched). */
bool ferry_equal_ct(const uint8_t *a, const uint8_t *b, size_t len);

/* Streaming SHA-256 for uploads that arrive in chunks. */
typedef struct ferry_sha256_ctx ferry_sha256_ctx;
ferry_sha256_ctx *ferry_sha256_begin(void);
bool ferry_sha256_update(ferry_sha256_ctx *ctx, const uint8_t *data, size_t len);
/* Writes the digest and frees ctx; out may be NULL to just free it. */
bool ferry_sha256_end(ferry_sha256_ctx *ctx, uint8_t out[32]);

#endif /* FERRY_CRYPTO_H */
