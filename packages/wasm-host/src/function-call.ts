/**
 * @module The conventions of a function call, shared by every host that runs a function module: the cloud's
 * runners (cloud/src/functions/execute.ts) and a board's local run (firmware/emulator/local-function.ts).
 * One copy, so that an answer computed locally and one computed in the cloud differ only in the state and
 * clock they read: what a call takes and gives back (Invocation, CallContext, RunOutput), the ports a
 * function sees (no sensors or actuators, emits and logs collected per call up to the caps), how a result is
 * carried (i64 as a decimal string, void as null), and which FERRY_FN_* code a failed instantiation or call
 * maps to (the catalog is call-errors.ts; arguments are checked by call-args.ts).
 */
import { STATUS, type AbiError } from '@ferry/abi';
import type { ResultType } from './call-args.ts';
import type { FnErrorCode } from './call-errors.ts';
import type { ValType } from './inspect.ts';
import type { BoardPorts, CompiledModule, KeyValueState, SensorReading } from './runtime.ts';

/** Per-call limits on what a function may hand back. */
export const MAX_EMITS = 16;
export const MAX_LOGS = 32;

export interface LogLine {
  readonly level: number;
  readonly text: string;
}

/** A successful call's answer, wherever it ran. */
export interface RunOutput {
  /** i32/f32/f64 as a number, i64 as a decimal string, void as null. */
  readonly value: number | string | null;
  /** msg.emit payloads in order (messages are ASCII compact JWS). */
  readonly emits: readonly string[];
  readonly logs: readonly LogLine[];
}

/** Who calls, and when: what the call's ports answer for dev.id, the clock and dev.sign. */
export interface CallContext {
  /** dev.id inside the function: the public token's subject, or the owner. */
  readonly callerId: string;
  readonly nowMs: number;
  readonly uptimeMs: number;
  /** The key dev.sign uses; without it dev.sign returns UNAVAILABLE. Never enters wasm memory. */
  readonly signSecret?: Uint8Array | undefined;
}

/** One call of one export of a compiled module, its args already converted (call-args.ts). */
export interface Invocation {
  /** Instances are reused per key (the cloud's is `${owner}\0${namespace}\0${hash}`, so module globals never leak across namespaces). */
  readonly instanceKey: string;
  readonly compiled: CompiledModule;
  readonly maxPages: number;
  readonly exportName: string;
  readonly args: readonly (number | bigint)[];
  readonly resultType: ResultType;
}

const latin1 = new TextDecoder('latin1');

/**
 * The ports of a function call; the host supplies identity, state, clock and signing. `emits` and `logs` are
 * the current call's (reset them before each call).
 */
export abstract class FunctionPorts implements BoardPorts {
  emits: string[] = [];
  logs: LogLine[] = [];
  abstract readonly deviceId: string;
  abstract readonly state: KeyValueState;
  abstract nowMs(): number;
  abstract uptimeMs(): number;
  abstract sign(data: Uint8Array): Uint8Array | undefined;
  sensorRead(): SensorReading {
    return { ok: false, status: STATUS.NO_SUCH_CHANNEL.value };
  }
  actuatorSet(): number {
    return STATUS.NO_SUCH_CHANNEL.value;
  }
  emit(token: Uint8Array): number {
    if (this.emits.length >= MAX_EMITS) return STATUS.QUOTA_EXCEEDED.value;
    this.emits.push(latin1.decode(token)); // messages are ASCII compact JWS
    return STATUS.OK.value;
  }
  log(level: number, text: string): void {
    if (this.logs.length < MAX_LOGS) this.logs.push({ level, text });
  }
}

/** A call's value as it travels: i32/f32/f64 as a number, i64 as a decimal string, void (`undefined`) as null. */
export function callValue(v: number, t: ValType | 'void' | undefined): number | string | null {
  if (t === undefined || t === 'void') return null;
  // call() returns i64 results as a Number (exact up to 2^53): sent as a decimal string.
  return t === 'i64' ? BigInt(Math.trunc(v)).toString() : v;
}

export type CallFailureCode = Extract<FnErrorCode, 'FERRY_FN_MODULE_INVALID' | 'FERRY_FN_MEMORY_EXCEEDED' | 'FERRY_FN_NO_SUCH_EXPORT' | 'FERRY_FN_TRAP'>;

export interface CallFailure {
  readonly code: CallFailureCode;
  readonly detail: string;
  /** The underlying FERRY_ABI_* code. */
  readonly details: readonly string[];
}

/** A module that would not instantiate: invalid when its ABI version or exports are wrong, else a trap in its start. */
export function instantiationFailure(e: AbiError): CallFailure {
  return e.code === 'FERRY_ABI_VERSION' || e.code === 'FERRY_ABI_MISSING_EXPORT'
    ? { code: 'FERRY_FN_MODULE_INVALID', detail: e.message, details: [e.code] }
    : { code: 'FERRY_FN_TRAP', detail: `while instantiating: ${e.message}`, details: [e.code] };
}

/**
 * A failed call. A trap after the memory grew to its declared maximum is reported as memory exhaustion: that
 * is how an allocator fails once memory.grow returns -1 (AssemblyScript's stub runtime ends in `unreachable`).
 */
export function callFailure(e: AbiError, pagesBefore: number, pagesAfter: number, maxPages: number): CallFailure {
  if (pagesAfter > pagesBefore && pagesAfter >= maxPages) {
    return { code: 'FERRY_FN_MEMORY_EXCEEDED', detail: `trapped at its memory maximum of ${maxPages} pages: ${e.message}`, details: [e.code] };
  }
  if (e.code === 'FERRY_ABI_MISSING_EXPORT') return { code: 'FERRY_FN_NO_SUCH_EXPORT', detail: e.message, details: [e.code] };
  return { code: 'FERRY_FN_TRAP', detail: e.message, details: [e.code] };
}
