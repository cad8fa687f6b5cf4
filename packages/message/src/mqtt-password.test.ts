import { describe, expect, it } from 'vitest';
import { mqttPassword } from './node-hmac.ts';

// The vector was computed once outside node:crypto, with RFC 5869's HKDF written out over python's
// hmac/hashlib (extract: PRK = HMAC(salt, key); expand: T1 = HMAC(PRK, info | 0x01)), for
// key = bytes 0x00..0x1f, id 'th-01'; so this checks the derivation, not node's HKDF against itself.
const KEY = Uint8Array.from({ length: 32 }, (_, i) => i);

describe('mqttPassword', () => {
  it('matches an independently computed vector', () => {
    expect(mqttPassword(KEY, 'th-01')).toBe('qVLrOPmyj8zljbgbafpQ9CbXXX9kX9HcF-3UqTWlV5o');
  });
  it('differs per id and per key, and is 43 base64url characters', () => {
    const other = KEY.map((b) => b ^ 1);
    const a = mqttPassword(KEY, 'th-01');
    expect(mqttPassword(KEY, 'th-02')).not.toBe(a);
    expect(mqttPassword(other, 'th-01')).not.toBe(a);
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
