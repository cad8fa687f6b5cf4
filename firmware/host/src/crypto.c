/* crypto.h over mbedTLS md (mbedtls/md.h: mbedtls_md_hmac, mbedtls_md_setup/starts/update/finish). */
#include "crypto.h"

#include <stdlib.h>

#include "mbedtls/md.h"

struct ferry_sha256_ctx {
    mbedtls_md_context_t md;
};

static const mbedtls_md_info_t *sha256_info(void) { return mbedtls_md_info_from_type(MBEDTLS_MD_SHA256); }

bool ferry_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len, uint8_t mac[32]) {
    const mbedtls_md_info_t *info = sha256_info();
    return info && mbedtls_md_hmac(info, key, key_len, data, len, mac) == 0;
}

bool ferry_sha256(const uint8_t *data, size_t len, uint8_t out[32]) {
    const mbedtls_md_info_t *info = sha256_info();
    return info && mbedtls_md(info, data, len, out) == 0;
}

ferry_sha256_ctx *ferry_sha256_begin(void) {
    const mbedtls_md_info_t *info = sha256_info();
    ferry_sha256_ctx *ctx = malloc(sizeof *ctx);
    if (!ctx || !info) {
        free(ctx);
        return NULL;
    }
    mbedtls_md_init(&ctx->md);
    if (mbedtls_md_setup(&ctx->md, info, 0) != 0 || mbedtls_md_starts(&ctx->md) != 0) {
        mbedtls_md_free(&ctx->md);
        free(ctx);
        return NULL;
    }
    return ctx;
}

bool ferry_sha256_update(ferry_sha256_ctx *ctx, const uint8_t *data, size_t len) {
    return ctx && mbedtls_md_update(&ctx->md, data, len) == 0;
}

bool ferry_sha256_end(ferry_sha256_ctx *ctx, uint8_t out[32]) {
    if (!ctx) return false;
    bool ok = out ? mbedtls_md_finish(&ctx->md, out) == 0 : true;
    mbedtls_md_free(&ctx->md);
    free(ctx);
    return ok;
}
