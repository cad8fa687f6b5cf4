import { describe, expect, it } from 'vitest';
import { MAX_TOKEN_BYTES } from '@ferry/message';
import { ABI_ERRORS, statusCode } from './errors.ts';
import { HOST_FUNCTIONS, LIMITS, STATUS, checkTable, wamrSignature } from './table.ts';

describe('ABI table', () => {
  it('is consistent: pointers paired with lengths, unique names, known statuses', () => {
    expect(checkTable()).toEqual([]);
  });
  it('gives WAMR signatures with *~ for every buffer', () => {
    const read = HOST_FUNCTIONS.find((f) => f.module === 'sensor' && f.name === 'read')!;
    expect(wamrSignature(read)).toBe('(i*~)i');
    const now = HOST_FUNCTIONS.find((f) => f.module === 'clock' && f.name === 'now_ms')!;
    expect(wamrSignature(now)).toBe('()I');
  });
  it("emitMax equals the envelope's MAX_TOKEN_BYTES, so a board never emits what a receiver refuses", () => {
    expect(LIMITS.emitMax).toBe(MAX_TOKEN_BYTES);
  });
  it('every negative status has a catalog code 1000 + |status|', () => {
    for (const s of Object.values(STATUS).filter((x) => x.value < 0)) {
      const code = statusCode(s.value)!;
      expect(ABI_ERRORS[code].num).toBe(1000 - s.value);
    }
  });
  it('catalog numbers are unique and in the 1xxx range', () => {
    const nums = Object.values(ABI_ERRORS).map((e) => e.num);
    expect(new Set(nums).size).toBe(nums.length);
    expect(nums.every((n) => n >= 1000 && n < 2000)).toBe(true);
  });
});
