/* The module's key-value state (ABI state.get/set/key_at), board-independent: a sorted array so
 * key_at enumerates in byte order like MemoryState in packages/wasm-host/src/runtime.ts, with the same
 * key quota. Persisted as one record ("state") through hal_persist_write after every change. */
#ifndef FERRY_KV_STATE_H
#define FERRY_KV_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef FERRY_STATE_MAX_KEYS
#define FERRY_STATE_MAX_KEYS 256 /* MemoryState's default maxKeys */
#endif

/* Loads the persisted record (a missing or corrupt record gives an empty state). */
void kv_load(void);
/* NULL if absent; *len gets the value length. */
const uint8_t *kv_get(const uint8_t *key, size_t key_len, size_t *len);
/* 0, or FERRY_STATUS_QUOTA_EXCEEDED when a new key would pass the quota. Persists. Arguments must be
 * valid (see kv_key_valid; value <= FERRY_LIMIT_STATE_VALUE_MAX). */
int32_t kv_set(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len);
/* The index-th key starting with prefix, in byte order; NULL past the end. */
const uint8_t *kv_key_at(const uint8_t *prefix, size_t prefix_len, uint32_t index, size_t *len);
/* Persist after every change (default true); the benchmark turns it off to time WAMR, not the disk. */
void kv_set_persist(bool on);
/* printable ASCII 0x21..0x7e, 1..64 bytes (0..64 when allow_empty). */
bool kv_key_valid(const uint8_t *key, size_t len, bool allow_empty);

#endif /* FERRY_KV_STATE_H */
