/**
 * @module The decoder error catalog: names, 50xx-51xx numbers, and docs/decoders.md naming only real codes
 * (the list is docs/errors.md, checked by packages/base/src/errors-docs.test.ts).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DECODE_ERRORS, DecodeError, fail, type DecodeErrorCode } from './errors.ts';

const codes = Object.keys(DECODE_ERRORS) as DecodeErrorCode[];
const doc = readFileSync(new URL('../../../docs/decoders.md', import.meta.url), 'utf8');

describe('decoder error catalog', () => {
  it("uses FERRY_DECODE_* names and unique numbers in 5000-5199 (52xx and up are the gateway sources')", () => {
    const nums = codes.map((c) => DECODE_ERRORS[c].num);
    expect(codes.every((c) => /^FERRY_DECODE_[A-Z0-9_]+$/.test(c))).toBe(true);
    expect(nums.every((n) => n >= 5000 && n <= 5199)).toBe(true);
    expect(new Set(nums).size).toBe(nums.length);
  });

  it('is linked from docs/decoders.md, which names no other code', () => {
    expect(doc).toContain('(errors.md#ferry_decode_-5000-5199)');
    const documented = [...doc.matchAll(/`(FERRY_DECODE_[A-Z0-9_]+)`/g)].map((m) => m[1]);
    expect(documented.length).toBeGreaterThan(0);
    for (const c of documented) expect(codes, c).toContain(c);
  });

  it('builds typed errors carrying code, number and a message naming the detail', () => {
    const r = fail('FERRY_DECODE_BAD_MIC', 'MIC check failed for 11:22:33:44:55:66');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toBeInstanceOf(DecodeError);
    expect([r.error.code, r.error.num, r.error.status, r.error.name]).toEqual(['FERRY_DECODE_BAD_MIC', 5109, 401, 'DecodeError']);
    expect(r.error.message).toBe('FERRY_DECODE_BAD_MIC: MIC check failed for 11:22:33:44:55:66');
  });
});
