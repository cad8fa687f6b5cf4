import { describe, expect, it } from 'vitest';
import { convertArgs, resultTypeOf } from './call-args.ts';
import type { FnResult } from './call-errors.ts';

const unwrap = <T>(r: FnResult<T>): T => {
  if (!r.ok) throw r.error;
  return r.value;
};
const codeOf = (r: FnResult<unknown>): string => (r.ok ? 'ok' : r.error.code);

describe('convertArgs', () => {
  const t = { params: ['i32', 'i64', 'f32', 'f64'] as const, results: [] };
  it('converts i64 from decimal strings, bigints and safe integers', () => {
    expect(unwrap(convertArgs(t, [-1, '-9223372036854775808', 1.5, 2]))).toEqual([-1, -(2n ** 63n), 1.5, 2]);
    expect(unwrap(convertArgs(t, [2 ** 32 - 1, 18446744073709551615n, 0, 0]))[1]).toBe(2n ** 64n - 1n);
    expect(unwrap(convertArgs(t, [0, 42, 0, 0]))[1]).toBe(42n);
  });
  it('refuses wrong counts and values', () => {
    for (const bad of [
      [],
      [0, 0, 0],
      [0, 0, 0, 0, 0],
      [2 ** 32, 0, 0, 0],
      [0.5, 0, 0, 0],
      ['1', 0, 0, 0],
      [0, '01', 0, 0],
      [0, '1.0', 0, 0],
      [0, (2n ** 64n).toString(), 0, 0],
      [0, 2 ** 53, 0, 0],
      [0, 0, '1', 0],
      [0, 0, 0, null],
    ]) {
      expect(codeOf(convertArgs(t, bad))).toBe('FERRY_FN_BAD_ARGS');
    }
    expect(codeOf(convertArgs({ params: ['v128'], results: [] }, [0]))).toBe('FERRY_FN_BAD_ARGS');
  });
  it('result types: one scalar or none', () => {
    expect(resultTypeOf({ params: [], results: [] })).toBe('void');
    expect(resultTypeOf({ params: [], results: ['i64'] })).toBe('i64');
    expect(resultTypeOf({ params: [], results: ['i32', 'i32'] })).toBeUndefined();
  });
});
