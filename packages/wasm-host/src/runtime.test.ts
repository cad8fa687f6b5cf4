import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { THERMOSTAT_WASM } from '@ferry/firmware/paths';
import { wat } from '@ferry/test-kit/wat';
import { compile, MemoryState, ModuleInstance, type BoardPorts } from './runtime.ts';

const ports = (over: Partial<BoardPorts> = {}): BoardPorts => ({
  deviceId: 'rt-1',
  nowMs: () => 1_767_225_600_000,
  uptimeMs: () => 0,
  sensorRead: () => ({ ok: true, centi: 2000 }),
  actuatorSet: () => 0,
  state: new MemoryState(),
  emit: () => 0,
  sign: () => new Uint8Array(32),
  log: () => undefined,
  ...over,
});

async function instance(text: string, over: Partial<BoardPorts> = {}): Promise<ModuleInstance> {
  const c = await compile(wat(text), { requiredExports: ['abi_version'] });
  if (!c.ok) throw new Error(c.errors.map((e) => e.message).join());
  const r = await ModuleInstance.create(c.value, ports(over));
  if (!r.ok) throw r.error;
  return r.value;
}
const base = `(func (export "abi_version") (result i32) i32.const 1) (memory (export "memory") 1 1)`;

describe('ModuleInstance', () => {
  it('the firmware refuses tick before boot with BAD_ARGUMENT (-3), without trapping', async () => {
    const c = await compile(readFileSync(THERMOSTAT_WASM));
    if (!c.ok) throw new Error('firmware does not compile');
    const r = await ModuleInstance.create(c.value, ports());
    if (!r.ok) throw r.error;
    expect(r.value.call('tick')).toEqual({ ok: true, value: -3 });
    expect(r.value.dead).toBe(false);
  });

  it('a pointer outside linear memory is a typed trap and kills the instance', async () => {
    const emitted: Uint8Array[] = [];
    const inst = await instance(
      `(module (import "msg" "emit" (func $emit (param i32 i32) (result i32))) ${base}
      (func (export "go") (result i32) (call $emit (i32.const 65530) (i32.const 100))))`,
      {
        emit: (t) => {
          emitted.push(t);
          return 0;
        },
      },
    );
    const r = inst.call('go');
    expect(r.ok ? 'ok' : r.error.code).toBe('FERRY_ABI_OUT_OF_BOUNDS');
    expect(emitted).toEqual([]);
    const again = inst.call('go');
    expect(again.ok ? 'ok' : again.error.code).toBe('FERRY_ABI_DEAD');
  });

  it('a negative length (huge unsigned) is out of bounds, not a wrap-around', async () => {
    const inst = await instance(`(module (import "log" "write" (func $log (param i32 i32 i32))) ${base}
      (func (export "go") (call $log (i32.const 1) (i32.const 16) (i32.const -1))))`);
    const r = inst.call('go');
    expect(r.ok ? 'ok' : r.error.code).toBe('FERRY_ABI_OUT_OF_BOUNDS');
  });

  it('unreachable is FERRY_ABI_TRAP with the engine message', async () => {
    const inst = await instance(`(module ${base} (func (export "go") unreachable))`);
    const r = inst.call('go');
    expect(r.ok ? 'ok' : `${r.error.code} ${r.error.message}`).toMatch(/^FERRY_ABI_TRAP .*unreachable/);
  });

  it('sys.abort reports message, file and line', async () => {
    const inst = await instance(`(module (import "sys" "abort" (func $abort (param i32 i32 i32 i32 i32 i32))) ${base}
      (data (i32.const 0) "boomfile.ts")
      (func (export "go") (call $abort (i32.const 0) (i32.const 4) (i32.const 4) (i32.const 7) (i32.const 12) (i32.const 3))))`);
    const r = inst.call('go');
    expect(r.ok ? 'ok' : r.error.message).toBe('FERRY_ABI_ABORT: boom at file.ts:12:3');
  });

  it('state.get reports BUFFER_TOO_SMALL without writing, and NOT_FOUND for a missing key', async () => {
    const state = new MemoryState();
    state.setText('k', 'hello');
    const inst = await instance(
      `(module (import "state" "get" (func $get (param i32 i32 i32 i32) (result i32))) ${base}
      (data (i32.const 0) "kx")
      (func (export "small") (result i32) (call $get (i32.const 0) (i32.const 1) (i32.const 100) (i32.const 4)))
      (func (export "fits") (result i32) (call $get (i32.const 0) (i32.const 1) (i32.const 100) (i32.const 5)))
      (func (export "missing") (result i32) (call $get (i32.const 1) (i32.const 1) (i32.const 100) (i32.const 5))))`,
      { state },
    );
    expect(inst.call('small')).toEqual({ ok: true, value: -2 });
    expect(inst.bytes()[100]).toBe(0);
    expect(inst.call('fits')).toEqual({ ok: true, value: 5 });
    expect(new TextDecoder().decode(inst.bytes().subarray(100, 105))).toBe('hello');
    expect(inst.call('missing')).toEqual({ ok: true, value: -1 });
  });

  it('state keys must be printable ASCII of 1..64 bytes', async () => {
    const inst = await instance(`(module (import "state" "set" (func $set (param i32 i32 i32 i32) (result i32))) ${base}
      (data (i32.const 0) "a b")
      (func (export "space") (result i32) (call $set (i32.const 0) (i32.const 3) (i32.const 0) (i32.const 1)))
      (func (export "empty") (result i32) (call $set (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1)))
      (func (export "long") (result i32) (call $set (i32.const 0) (i32.const 65) (i32.const 0) (i32.const 1))))`);
    expect([inst.call('space'), inst.call('empty'), inst.call('long')]).toEqual([
      { ok: true, value: -3 },
      { ok: true, value: -3 },
      { ok: true, value: -3 },
    ]);
  });

  it('a module for another ABI version is refused at instantiation', async () => {
    const c = await compile(wat(`(module (func (export "abi_version") (result i32) i32.const 2) (memory (export "memory") 1 1))`), {
      requiredExports: ['abi_version'],
    });
    if (!c.ok) throw new Error();
    const r = await ModuleInstance.create(c.value, ports());
    expect(r.ok ? 'ok' : r.error.code).toBe('FERRY_ABI_VERSION');
  });

  it('a throwing port becomes a typed trap instead of escaping', async () => {
    const inst = await instance(`(module (import "clock" "now_ms" (func $now (result i64))) ${base} (func (export "go") (drop (call $now))))`, {
      nowMs: () => {
        throw new Error('rtc gone');
      },
    });
    const r = inst.call('go');
    expect(r.ok ? 'ok' : r.error.message).toMatch(/FERRY_ABI_TRAP: host port failed: rtc gone/);
  });
});
