/** Property-based tests (fast-check) over the parser: it never throws and never accepts an altered token. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encode, peek, verify, type Json, type Message } from './codec.ts';
import { MESSAGE_ERRORS } from './errors.ts';
import { hmacKey } from './node-hmac.ts';

const key = hmacKey(new Uint8Array(32).fill(7));
const codes = new Set(Object.keys(MESSAGE_ERRORS));
const isTypedFailure = (r: { ok: boolean; error?: { code: string } }): boolean => !r.ok && codes.has(r.error!.code);

const kid = fc.stringMatching(/^[A-Za-z0-9._-]{1,32}$/);
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const json: fc.Arbitrary<Json> = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>;
const message: fc.Arbitrary<Message> = fc
  .record({
    kid,
    ep: u32,
    sq: u32,
    group: fc.option(
      fc.integer({ min: 1, max: 1024 }).chain((parts) => fc.record({ id: u32, part: fc.integer({ min: 0, max: parts - 1 }), parts: fc.constant(parts) })),
      { nil: undefined },
    ),
    iat: fc.integer({ min: 0, max: 2 ** 40 }),
    extra: fc.dictionary(
      fc.string({ maxLength: 8 }).filter((k) => k !== 'iss' && k !== 'iat' && k !== '__proto__'),
      json,
      { maxKeys: 4 },
    ),
  })
  .map(({ kid, ep, sq, group, iat, extra }) => ({
    header: group === undefined ? { kid, ep, sq } : { kid, ep, sq, group },
    claims: { ...extra, iss: kid, iat },
  }));

describe('parser properties', () => {
  it('arbitrary text never throws and is refused with a catalog code', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        for (const r of [verify(s, key), decode(s), peek(s)]) if (!r.ok) expect(codes.has(r.error.code)).toBe(true);
        expect(verify(s, key).ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
  it('arbitrary bytes never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2100 }), (b) => {
        expect(isTypedFailure(verify(b, key))).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
  it('three arbitrary base64url segments never throw', () => {
    const seg = fc.stringMatching(/^[A-Za-z0-9_-]{0,80}$/);
    fc.assert(
      fc.property(seg, seg, seg, (a, b, c) => {
        expect(isTypedFailure(verify(`${a}.${b}.${c}`, key))).toBe(true);
      }),
    );
  });
  it('encode then verify round-trips any valid message (if it fits the size limit)', () => {
    fc.assert(
      fc.property(message, (m) => {
        const t = encode(m, key);
        if (!t.ok) {
          expect(t.error.code).toBe('FERRY_MSG_ENCODE_INPUT');
          return;
        }
        const r = verify(t.value, key);
        expect(r.ok).toBe(true);
        if (r.ok) {
          expect(r.value.header).toEqual(m.header);
          expect(r.value.claims).toEqual(JSON.parse(JSON.stringify(m.claims)));
        }
      }),
      { numRuns: 500 },
    );
  });
  it('any single changed byte of a valid token is refused with a typed error', () => {
    fc.assert(
      fc.property(message, fc.nat(), fc.integer({ min: 1, max: 255 }), (m, at, x) => {
        const t = encode(m, key);
        if (!t.ok) return;
        const bytes = new TextEncoder().encode(t.value);
        const i = at % bytes.length;
        bytes[i] = bytes[i]! ^ x;
        expect(isTypedFailure(verify(bytes, key))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
  it('every truncation of a valid token is refused', () => {
    fc.assert(
      fc.property(message, fc.nat(), (m, cut) => {
        const t = encode(m, key);
        if (!t.ok) return;
        expect(isTypedFailure(verify(t.value.slice(0, cut % t.value.length), key))).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
