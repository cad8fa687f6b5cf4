/** @module parseHex / toHex: accepted spellings, typed refusals, round trip. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseHex, toHex } from './hex.ts';

describe('parseHex', () => {
  it('parses plain, spaced, colon-separated and 0x-prefixed hex', () => {
    for (const text of ['424d0001', '42 4D 00 01', '42:4d:00:01', '0x424D0001', '  42-4d-00-01\n']) {
      const r = parseHex(text);
      expect(r.ok && Array.from(r.value)).toEqual([0x42, 0x4d, 0x00, 0x01]);
    }
    expect(parseHex('')).toEqual({ ok: true, value: new Uint8Array(0) });
  });

  it('refuses odd length and non-hex characters with typed errors naming the problem', () => {
    const odd = parseHex('424');
    expect(!odd.ok && [odd.error.code, odd.error.num]).toEqual(['FERRY_DECODE_HEX_ODD_LENGTH', 5001]);
    expect(!odd.ok && odd.error.message).toMatch(/3 digits/);
    const bad = parseHex('42zz');
    expect(!bad.ok && [bad.error.code, bad.error.num]).toEqual(['FERRY_DECODE_HEX_INVALID_CHAR', 5002]);
    expect(!bad.ok && bad.error.message).toMatch(/"z" at position 2/);
    expect(parseHex('0x').ok).toBe(true);
    expect(parseHex('4x2').ok).toBe(false);
  });

  it('round trips any bytes and never throws on any text', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        const r = parseHex(toHex(b));
        expect(r.ok && toHex(r.value)).toBe(toHex(b));
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        const r = parseHex(s);
        expect(typeof r.ok).toBe('boolean');
      }),
    );
  });
});
