import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { THERMOSTAT_WASM } from '@ferry/firmware/paths';
import { wat } from '@ferry/test-kit/wat';
import { checkModule } from './abi-check.ts';
import { inspect } from './inspect.ts';

const exportsOk = `(func (export "abi_version") (result i32) i32.const 1) (func (export "boot") (param i32) (result i32) i32.const 0) (func (export "tick") (result i32) i32.const 0) (memory (export "memory") 1 1)`;
const codes = (bytes: Uint8Array): string[] => {
  const r = checkModule(bytes);
  return r.ok ? [] : r.errors.map((e) => e.code);
};

describe('checkModule', () => {
  it('accepts the release firmware', () => {
    const r = checkModule(readFileSync(THERMOSTAT_WASM));
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value.imports.length).toBeGreaterThan(5);
  });
  it('accepts a minimal conforming module', () => {
    expect(codes(wat(`(module ${exportsOk})`))).toEqual([]);
  });
  it('refuses an import that is not in the ABI (WAMR would only fail at call time)', () => {
    expect(codes(wat(`(module (import "env" "printf" (func (param i32))) ${exportsOk})`))).toEqual(['FERRY_ABI_UNKNOWN_IMPORT']);
  });
  it('refuses an ABI import with the wrong signature', () => {
    expect(codes(wat(`(module (import "clock" "now_ms" (func (result i32))) ${exportsOk})`))).toEqual(['FERRY_ABI_IMPORT_SIGNATURE']);
  });
  it('refuses an imported memory, a missing maximum, and an oversized memory', () => {
    const ex = exportsOk.replace('(memory (export "memory") 1 1)', '');
    expect(codes(wat(`(module (import "env" "memory" (memory 1 1)) ${ex})`))).toContain('FERRY_ABI_MEMORY');
    expect(codes(wat(`(module ${ex} (memory (export "memory") 1))`))).toEqual(['FERRY_ABI_MEMORY']);
    expect(codes(wat(`(module ${ex} (memory (export "memory") 1 4))`))).toEqual(['FERRY_ABI_MEMORY']);
  });
  it('refuses missing and mistyped exports, reporting every problem at once', () => {
    expect(codes(wat(`(module (func (export "abi_version") (result i64) i64.const 1) (memory 1 1))`)).sort()).toEqual(
      ['FERRY_ABI_EXPORT_SIGNATURE', 'FERRY_ABI_MISSING_EXPORT', 'FERRY_ABI_MISSING_EXPORT', 'FERRY_ABI_MISSING_EXPORT'].sort(),
    );
  });
  it('refuses garbage and oversized input with typed errors', () => {
    expect(codes(new Uint8Array([0, 97, 115, 109, 2, 0, 0, 0]))).toEqual(['FERRY_ABI_MALFORMED']);
    expect(codes(new Uint8Array(300 * 1024))).toEqual(['FERRY_ABI_TOO_LARGE']);
  });
});

describe('inspect', () => {
  it('never throws on arbitrary bytes, with or without a valid header', () => {
    const header = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0];
    fc.assert(
      fc.property(fc.boolean(), fc.uint8Array({ maxLength: 200 }), (withHeader, tail) => {
        const bytes = new Uint8Array([...(withHeader ? header : []), ...tail]);
        const r = inspect(bytes);
        if (!r.ok) expect(r.error.code).toBe('FERRY_WASM_MALFORMED');
      }),
      { numRuns: 3000 },
    );
  });
  it('never throws on truncations or single-byte changes of the real firmware', () => {
    const fw = readFileSync(THERMOSTAT_WASM);
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), fc.boolean(), (at, x, truncate) => {
        const b = new Uint8Array(fw);
        const i = at % b.length;
        if (!truncate) b[i] = b[i]! ^ x;
        const bytes = truncate ? b.subarray(0, i) : b;
        expect(() => checkModule(bytes)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });
});
