/** @module Caps on module shape: a few bytes must not be able to declare what exhausts a host. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { THERMOSTAT_WASM } from '@ferry/firmware/paths';
import { checkModule } from './abi-check.ts';
import { inspect } from './inspect.ts';
import { MODULE_LIMITS } from './module-limits.ts';
import { wat } from '@ferry/test-kit/wat';

const exportsOk = `(func (export "abi_version") (result i32) i32.const 1) (func (export "boot") (param i32) (result i32) i32.const 0) (func (export "tick") (result i32) i32.const 0) (memory (export "memory") 1 1)`;
const limitErrors = (bytes: Uint8Array): string[] => {
  const r = checkModule(bytes);
  return r.ok ? [] : r.errors.filter((e) => e.code === 'FERRY_ABI_LIMIT').map((e) => detail(e.message));
};
const detail = (message: string): string => message.replace(/^FERRY_ABI_LIMIT: /, '');

describe('module shape limits', () => {
  it('reads tables, globals, functions, locals and segments', () => {
    const r = inspect(
      wat(`(module ${exportsOk} (table 3 5 funcref) (global i32 (i32.const 1)) (global (mut i64) (i64.const 2))
      (func (local i32 i32) (local i64)) (elem (i32.const 0) func 0) (data (memory 0) (i32.const 0) "ab") (data "cd"))`),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.tables).toEqual([{ initial: 3, maximum: 5 }]);
    expect(r.value).toMatchObject({ globals: 2, functions: 4, maxLocals: 3, totalLocals: 3, elementSegments: 1, dataSegments: 2 });
  });

  it('the release firmware fits with room to spare', () => {
    const r = inspect(readFileSync(THERMOSTAT_WASM));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(limitErrors(readFileSync(THERMOSTAT_WASM))).toEqual([]);
    expect(r.value.functions * 4).toBeLessThan(MODULE_LIMITS.maxFunctions);
    expect(r.value.globals * 4).toBeLessThan(MODULE_LIMITS.maxGlobals);
  });

  // Regression: this 78-byte module passed every upload check; instantiating it allocated ten million table
  // entries outside the JS heap, and V8's external-memory limit aborted the whole process.
  it('refuses a table of ten million entries, and a table with no maximum', () => {
    const bomb = wat(`(module (table 10000000 funcref) ${exportsOk})`);
    expect(bomb.length).toBeLessThan(100);
    expect(limitErrors(bomb)).toEqual(['table section: table 0 declares no maximum', 'table section: table 0 has 10000000 entries > 10000']);
    expect(limitErrors(wat(`(module (table 1 20000 funcref) ${exportsOk})`))).toEqual(['table section: table 0 has 20000 entries > 10000']);
    expect(limitErrors(wat(`(module (import "env" "t" (table 1 funcref)) ${exportsOk})`))).toEqual(['table section: table 0 declares no maximum']);
  });

  it('refuses a function with millions of locals declared in a few bytes', () => {
    const m = wat(`(module ${exportsOk} (func (local ${'i64 '.repeat(1001)})))`);
    expect(limitErrors(m)).toEqual(['code section: a function declares 1001 locals > 1000']);
    // Hand-made: one run of 0xffffffff locals (five bytes) in an otherwise valid module.
    const body = [0x07, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x7e, 0x0b];
    const huge = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 10, body.length + 1, 1, ...body]);
    const r = inspect(huge);
    expect(r.ok && r.value.maxLocals).toBe(0xffff_ffff);
    expect(limitErrors(huge).some((e) => e.startsWith('code section: a function declares 4294967295 locals'))).toBe(true);
  });

  it('refuses too many globals, functions and segments, each by name; limits can be set per host', () => {
    const globals = Array.from({ length: 11 }, () => '(global i32 (i32.const 0))').join(' ');
    const funcs = Array.from({ length: 8 }, () => '(func)').join(' ');
    const data = Array.from({ length: 3 }, () => '(data "x")').join(' ');
    const m = wat(`(module ${exportsOk} ${globals} ${funcs} ${data})`);
    const r = checkModule(m, { limits: { maxGlobals: 10, maxFunctions: 10, maxDataSegments: 2 } });
    expect(r.ok ? [] : r.errors.map((e) => `${e.code} ${detail(e.message)}`)).toEqual([
      'FERRY_ABI_LIMIT global section: 11 globals > 10',
      'FERRY_ABI_LIMIT code section: 11 functions > 10',
      'FERRY_ABI_LIMIT data section: 3 segments > 2',
    ]);
    expect(limitErrors(m)).toEqual([]);
  });

  it('a body that claims to run past its section is malformed, not a crash', () => {
    const bad = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 10, 4, 1, 0x7f, 0x00, 0x0b]);
    const r = inspect(bad);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(/runs past/);
  });
});
