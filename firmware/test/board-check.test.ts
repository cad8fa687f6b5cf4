import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { wat } from '@ferry/test-kit/wat';
import { THERMOSTAT_WASM } from '../paths.ts';
import { checkBoardModule } from '../scripts/board-check.ts';

const exportsOk = `(func (export "abi_version") (result i32) i32.const 1) (func (export "boot") (param i32) (result i32) i32.const 0) (memory (export "memory") 1 1)`;
const tick = (body: string): string => `(module ${exportsOk} (func (export "tick") (result i32) ${body}))`;

describe('board fitness check', () => {
  it('passes the release firmware: no float instructions, within budget', () => {
    expect(checkBoardModule(readFileSync(THERMOSTAT_WASM))).toEqual({ problems: [], floatInstructions: 0 });
  });
  it('refuses bulk-memory (memory.fill), which WAMR builds may leave out', () => {
    const bytes = wat(tick('(memory.fill (i32.const 0) (i32.const 0) (i32.const 8)) i32.const 0'));
    expect(checkBoardModule(bytes).problems.join()).toMatch(/not valid with MVP/);
  });
  it('refuses non-trapping float-to-int conversions', () => {
    const bytes = wat(tick('(i32.trunc_sat_f32_s (f32.const 1.5))'));
    expect(checkBoardModule(bytes).problems.join()).toMatch(/not valid with MVP/);
  });
  it('refuses floating-point instructions', () => {
    const r = checkBoardModule(wat(tick('(i32.trunc_f32_s (f32.mul (f32.const 1.5) (f32.const 2)))')));
    expect(r.floatInstructions).toBe(3);
  });
  it('refuses a module over the size budget', () => {
    expect(checkBoardModule(readFileSync(THERMOSTAT_WASM), 1024).problems.join()).toMatch(/> budget 1024/);
  });
});
