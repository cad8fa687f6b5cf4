/* kv_state.h: a sorted array of fixed-size entries (no allocation; a board has a fixed budget). */
#include "kv_state.h"

#include <string.h>

#include "ferry_abi.h"
#include "hal.h"

typedef struct {
    uint8_t key[FERRY_LIMIT_STATE_KEY_MAX];
    uint8_t value[FERRY_LIMIT_STATE_VALUE_MAX];
    uint8_t key_len;
    uint16_t value_len;
} kv_entry_t;

static kv_entry_t entries[FERRY_STATE_MAX_KEYS];
static size_t count;
/* Serialised record: per entry key_len u8, key, value_len u16 LE, value. */
static uint8_t record[FERRY_STATE_MAX_KEYS * (3 + FERRY_LIMIT_STATE_KEY_MAX + FERRY_LIMIT_STATE_VALUE_MAX)];

bool kv_key_valid(const uint8_t *key, size_t len, bool allow_empty) {
    if ((len == 0 && !allow_empty) || len > FERRY_LIMIT_STATE_KEY_MAX) return false;
    for (size_t i = 0; i < len; i++)
        if (key[i] < 0x21 || key[i] > 0x7e) return false;
    return true;
}

/* memcmp order, shorter first on a tie: the order of JavaScript's default sort on ASCII strings. */
static int cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an < bn ? -1 : an > bn ? 1 : 0);
}

/* Index of the key, or of where it would go (*found false). */
static size_t find(const uint8_t *key, size_t len, bool *found) {
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = cmp(entries[mid].key, entries[mid].key_len, key, len);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    *found = false;
    return lo;
}

static bool persist = true;
void kv_set_persist(bool on) { persist = on; }

static void save(void) {
    size_t n = 0;
    if (!persist) return;
    for (size_t i = 0; i < count; i++) {
        const kv_entry_t *e = &entries[i];
        record[n++] = e->key_len;
        memcpy(record + n, e->key, e->key_len);
        n += e->key_len;
        record[n++] = (uint8_t)(e->value_len & 0xff);
        record[n++] = (uint8_t)(e->value_len >> 8);
        memcpy(record + n, e->value, e->value_len);
        n += e->value_len;
    }
    if (!hal_persist_write("state", record, n)) hal_log(HAL_LOG_WARN, "state: cannot persist %u bytes", (unsigned)n);
}

void kv_load(void) {
    count = 0;
    long n = hal_persist_read("state", record, sizeof record);
    if (n <= 0 || (size_t)n > sizeof record) return; /* absent, unreadable, or not ours: start empty */
    size_t i = 0, len = (size_t)n;
    while (i < len) { /* every field is checked: a torn or foreign record must not crash the board */
        size_t kl = record[i++];
        if (kl + 2 > len - i || !kv_key_valid(record + i, kl, false)) break;
        const uint8_t *k = record + i;
        i += kl;
        size_t vl = (size_t)record[i] | ((size_t)record[i + 1] << 8);
        i += 2;
        if (vl > FERRY_LIMIT_STATE_VALUE_MAX || vl > len - i) break;
        bool found;
        size_t at = find(k, kl, &found);
        if (found || count == FERRY_STATE_MAX_KEYS) break;
        memmove(&entries[at + 1], &entries[at], (count - at) * sizeof entries[0]);
        memcpy(entries[at].key, k, kl);
        entries[at].key_len = (uint8_t)kl;
        memcpy(entries[at].value, record + i, vl);
        entries[at].value_len = (uint16_t)vl;
        count++;
        i += vl;
    }
}

const uint8_t *kv_get(const uint8_t *key, size_t key_len, size_t *len) {
    bool found;
    size_t at = find(key, key_len, &found);
    if (!found) return NULL;
    *len = entries[at].value_len;
    return entries[at].value;
}

int32_t kv_set(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len) {
    bool found;
    size_t at = find(key, key_len, &found);
    if (!found) {
        if (count >= FERRY_STATE_MAX_KEYS) return FERRY_STATUS_QUOTA_EXCEEDED;
        memmove(&entries[at + 1], &entries[at], (count - at) * sizeof entries[0]);
        memcpy(entries[at].key, key, key_len);
        entries[at].key_len = (uint8_t)key_len;
        count++;
    }
    memcpy(entries[at].value, value, value_len);
    entries[at].value_len = (uint16_t)value_len;
    save();
    return FERRY_STATUS_OK;
}

const uint8_t *kv_key_at(const uint8_t *prefix, size_t prefix_len, uint32_t index, size_t *len) {
    bool found;
    size_t at = find(prefix, prefix_len, &found); /* first key >= prefix: matches are contiguous from here */
    for (size_t i = at; i < count; i++) {
        const kv_entry_t *e = &entries[i];
        if (e->key_len < prefix_len || memcmp(e->key, prefix, prefix_len) != 0) break;
        if (index-- == 0) {
            *len = e->key_len;
            return e->key;
        }
    }
    return NULL;
}
