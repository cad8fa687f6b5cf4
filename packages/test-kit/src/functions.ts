/**
 * @module Helpers for the cloud functions' tests, benches and e2e: hand-written WAT function modules (good
 * ones and the attacks the service must survive; turn them into bytes with `wat` of ./wat.ts), a manual
 * clock for the function runners, result helpers, and owners with their tokens.
 */
import type { FnResult } from '@ferry/wasm-host';
import { generatePrivateToken, mintPublicToken, type Clock, type MintSpec } from '@ferry/cloud/functions';

/** A function module using every ABI import; memory 1..4 pages. Key "counter" at 0, "temp." at 16. */
export const KV_WAT = `(module
  (import "state" "get" (func $get (param i32 i32 i32 i32) (result i32)))
  (import "state" "set" (func $set (param i32 i32 i32 i32) (result i32)))
  (import "state" "key_at" (func $key_at (param i32 i32 i32 i32 i32) (result i32)))
  (import "dev" "id" (func $id (param i32 i32) (result i32)))
  (import "dev" "sign" (func $sign (param i32 i32 i32 i32) (result i32)))
  (import "sensor" "read" (func $read (param i32 i32 i32) (result i32)))
  (import "actuator" "set" (func $act (param i32 i32) (result i32)))
  (import "msg" "emit" (func $emit (param i32 i32) (result i32)))
  (import "log" "write" (func $log (param i32 i32 i32)))
  (import "clock" "now_ms" (func $now (result i64)))
  (memory (export "memory") 1 4)
  (data (i32.const 0) "counter")
  (data (i32.const 16) "temp.")
  (func (export "abi_version") (result i32) i32.const 1)
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "add64") (param i64 i64) (result i64) (i64.add (local.get 0) (local.get 1)))
  (func (export "fadd") (param f64 f64) (result f64) (f64.add (local.get 0) (local.get 1)))
  (func $incr (export "incr") (result i32) (local $v i32)
    (if (i32.ge_s (call $get (i32.const 0) (i32.const 7) (i32.const 64) (i32.const 4)) (i32.const 0))
      (then (local.set $v (i32.load (i32.const 64)))))
    (i32.store (i32.const 64) (i32.add (local.get $v) (i32.const 1)))
    (drop (call $set (i32.const 0) (i32.const 7) (i32.const 64) (i32.const 4)))
    (i32.load (i32.const 64)))
  (func (export "incr_then_trap") (drop (call $incr)) unreachable)
  (func (export "count_temps") (result i32) (local $i i32)
    (block $done (loop $next
      (br_if $done (i32.lt_s (call $key_at (i32.const 16) (i32.const 5) (local.get $i) (i32.const 256) (i32.const 64)) (i32.const 0)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (local.get $i))
  (func (export "id_len") (result i32) (call $id (i32.const 128) (i32.const 32)))
  (func (export "sign") (result i32) (call $sign (i32.const 0) (i32.const 7) (i32.const 160) (i32.const 32)))
  (func (export "sensor") (result i32) (call $read (i32.const 0) (i32.const 200) (i32.const 4)))
  (func (export "actuate") (result i32) (call $act (i32.const 0) (i32.const 1)))
  (func (export "emit") (result i32) (call $emit (i32.const 0) (i32.const 7)))
  (func (export "log") (call $log (i32.const 1) (i32.const 0) (i32.const 7)))
  (func (export "now") (result i64) (call $now))
  (func (export "trap") unreachable)
  (func (export "spin") (loop $l (br $l)))
  (func (export "incr_then_spin") (drop (call $incr)) (loop $l (br $l)))
  (func (export "bomb") (result i32)
    (block $full (loop $more (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1))) (br $more)))
    unreachable)
  (func (export "grow_once") (result i32) (memory.grow (i32.const 1))))`;

/** Attacks on the registry. */
export const BAD_MODULES = {
  foreignImport: `(module (import "env" "exec" (func (param i32))) (memory (export "memory") 1 1) (func (export "abi_version") (result i32) i32.const 1))`,
  noMaximum: `(module (memory (export "memory") 1) (func (export "abi_version") (result i32) i32.const 1))`,
  hugeMaximum: `(module (memory (export "memory") 1 65536) (func (export "abi_version") (result i32) i32.const 1))`,
  noAbiVersion: `(module (memory (export "memory") 1 1) (func (export "f") (result i32) i32.const 1))`,
  wrongAbiVersion: `(module (memory (export "memory") 1 1) (func (export "abi_version") (result i32) i32.const 99) (func (export "f") (result i32) i32.const 1))`,
} as const;

/** The function runners' clock, moved by hand: wall time `ms`, uptime counted from the default start. */
export class ManualClock implements Clock {
  ms: number;
  constructor(ms = Date.UTC(2026, 10, 22, 12)) {
    this.ms = ms;
  }
  nowMs(): number {
    return this.ms;
  }
  uptimeMs(): number {
    return this.ms - Date.UTC(2026, 10, 22, 12);
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export function unwrap<T>(r: FnResult<T>): T {
  if (!r.ok) throw r.error;
  return r.value;
}

/** The code of a failed result, or 'ok'. */
export const codeOf = (r: FnResult<unknown>): string => (r.ok ? 'ok' : r.error.code);

export const publicSpec = (over: Partial<MintSpec> = {}): MintSpec => ({
  subject: 'room-1',
  ttlS: 3600,
  namespaces: ['home'],
  rate: { perSecond: 100, burst: 100 },
  ...over,
});

export function owner(name: string): { token: string; mint: (spec: Partial<MintSpec>, nowMs: number) => string } {
  const token = generatePrivateToken(name);
  return { token, mint: (spec, nowMs) => unwrap(mintPublicToken(token, publicSpec(spec), nowMs)) };
}
