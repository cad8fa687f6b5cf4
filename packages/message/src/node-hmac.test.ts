import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hmacKey } from './node-hmac.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('hmacKey', () => {
  // RFC 4231 §4.3 (test case 2 uses a 4-byte key, below our 32-byte floor) — cases with keys >= 32 bytes:
  it('RFC 4231 test case 6: 131-byte key (hashed first), "Test Using Larger Than Block-Size Key - Hash Key First"', () => {
    const key = new Uint8Array(131).fill(0xaa);
    const data = new TextEncoder().encode('Test Using Larger Than Block-Size Key - Hash Key First');
    expect(hex(hmacKey(key).mac(data))).toBe('60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54');
  });
  it('RFC 4231 test case 7: 131-byte key, longer data', () => {
    const key = new Uint8Array(131).fill(0xaa);
    const data = new TextEncoder().encode(
      'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.',
    );
    expect(hex(hmacKey(key).mac(data))).toBe('9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2');
  });
  it('equals createHmac for any key of 32..200 bytes and any data up to and beyond a token', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 200 }), fc.uint8Array({ maxLength: 2200 }), (key, data) => {
        const k = hmacKey(key);
        expect(hex(k.mac(data))).toBe(createHmac('sha256', key).update(data).digest('hex'));
        expect(hex(k.mac(data))).toBe(createHmac('sha256', key).update(data).digest('hex')); // buffers reused safely
      }),
      { numRuns: 300 },
    );
  });
  it('refuses keys shorter than 256 bits', () => {
    expect(() => hmacKey(new Uint8Array(31))).toThrow(/at least 32 bytes/);
  });
});
