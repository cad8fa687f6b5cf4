/**
 * @module Runs a function module's export on the board itself, with the conventions the cloud runners share
 * (@ferry/wasm-host args.ts and function-call.ts), so that an answer computed locally and one computed by the
 * cloud differ only in the state they read: args are checked against the export's wasm signature (i64 as a
 * decimal string, a bigint or a safe integer; JSON has no 64-bit integers), results are i32/f32/f64 as a
 * number, i64 as a decimal string, void as null; the ABI offers no sensor or actuator (NO_SUCH_CHANNEL),
 * dev.sign is UNAVAILABLE, dev.id is the board, emits and logs are collected per call; failures carry the
 * cloud's FERRY_FN_* codes. Unlike the cloud, state writes go straight to the board's state (no overlay):
 * a call that traps keeps the writes it made before the trap.
 */
import {
  callFailure, callValue, compile, convertArg, FunctionPorts, instantiationFailure, ModuleInstance,
  type CallFailure, type CompiledModule, type FuncType, type KeyValueState, type LogLine,
} from '@ferry/wasm-host';

/** What a call passes: i64 as a decimal string or bigint, the other types as numbers. */
export type ArgValue = number | string | bigint;

export type { LogLine } from '@ferry/wasm-host';

/** The cloud's reply to a successful call (cloud/src/functions/execute.ts RunOutput), wherever it ran. */
export interface FunctionOutput {
  /** i32/f32/f64 as a number, i64 as a decimal string, void as null. */
  readonly value: number | string | null;
  /** msg.emit payloads in order. */
  readonly emits: readonly string[];
  readonly logs: readonly LogLine[];
}

/** What a local run needs from the board: its id (dev.id), its state and its clock. An EmulatedBoard fits. */
export interface LocalHost {
  readonly deviceId: string;
  readonly state: KeyValueState;
  readonly clock: { nowMs(): number; uptimeMs(): number };
}

/**
 * Numbers of the FERRY_FN_* codes a local run or the board's caller produces itself; the catalog is
 * cloud/src/functions/errors.ts (e2e/board-remote.test.ts checks these against it).
 */
export const LOCAL_FN_ERRORS = {
  FERRY_FN_MODULE_NEEDED: 4002,
  FERRY_FN_MODULE_INVALID: 4003,
  FERRY_FN_MEMORY_EXCEEDED: 4005,
  FERRY_FN_NO_SUCH_EXPORT: 4006,
  FERRY_FN_BAD_ARGS: 4007,
  FERRY_FN_TRAP: 4008,
} as const;
export type LocalFnErrorCode = keyof typeof LOCAL_FN_ERRORS;

/**
 * A call that failed: `code` is a FERRY_FN_* code (the cloud's, from its reply, or the same code for the
 * same failure locally); `where` says who refused: the cloud, the cloud's upload endpoint, or the local run.
 */
export class FunctionCallError extends Error {
  readonly code: string;
  readonly num: number | undefined;
  readonly details: readonly string[];
  readonly where: 'cloud' | 'upload' | 'local';
  constructor(code: string, detail: string, where: 'cloud' | 'upload' | 'local', opts: { num?: number | undefined; details?: readonly string[] } = {}) {
    super(detail.startsWith(`${code}:`) ? detail : `${code}: ${detail}`);
    this.name = 'FunctionCallError';
    this.code = code;
    this.num = opts.num ?? (LOCAL_FN_ERRORS as Record<string, number | undefined>)[code];
    this.details = opts.details ?? [];
    this.where = where;
  }
}

export type FunctionResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: FunctionCallError };

const fail = (code: LocalFnErrorCode, detail: string, details: readonly string[] = []): FunctionResult<never> =>
  ({ ok: false, error: new FunctionCallError(code, detail, 'local', { details }) });

/** Args for a call to a function of type `type`, as the cloud converts them (cloud/src/functions/args.ts). */
export function convertArgs(type: FuncType, args: readonly unknown[]): FunctionResult<(number | bigint)[]> {
  if (args.length !== type.params.length) return fail('FERRY_FN_BAD_ARGS', `expected ${type.params.length} args ${JSON.stringify(type.params)}, got ${args.length}`);
  const out: (number | bigint)[] = [];
  for (let i = 0; i < args.length; i++) {
    const c = convertArg(type.params[i]!, args[i], i);
    if (typeof c === 'string') return fail('FERRY_FN_BAD_ARGS', c);
    out.push(c);
  }
  return { ok: true, value: out };
}

/** The board's ports for a function call: state and clock from the host, the rest as the cloud offers them. */
class LocalPorts extends FunctionPorts {
  readonly host: LocalHost;
  constructor(host: LocalHost) {
    super();
    this.host = host;
  }
  get deviceId(): string { return this.host.deviceId; }
  get state(): KeyValueState { return this.host.state; }
  nowMs(): number { return this.host.clock.nowMs(); }
  uptimeMs(): number { return this.host.clock.uptimeMs(); }
  sign(): Uint8Array | undefined { return undefined; }
}

const failed = (f: CallFailure): FunctionResult<never> => fail(f.code, f.detail, f.details);

/** One function module, run on the board over its host's state and clock. */
export class LocalFunction {
  readonly compiled: CompiledModule;
  private readonly ports: LocalPorts;
  private instance: ModuleInstance | undefined;

  private constructor(compiled: CompiledModule, host: LocalHost) {
    this.compiled = compiled;
    this.ports = new LocalPorts(host);
  }

  /** Checks and compiles the module as the cloud's registry would (abi_version the only required export). */
  static async create(module: Uint8Array | CompiledModule, host: LocalHost): Promise<FunctionResult<LocalFunction>> {
    if ('module' in module) return { ok: true, value: new LocalFunction(module, host) };
    const c = await compile(module, { requiredExports: ['abi_version'] });
    if (!c.ok) return fail('FERRY_FN_MODULE_INVALID', c.errors.map((e) => e.message).join('; '), c.errors.map((e) => e.code));
    return { ok: true, value: new LocalFunction(c.value, host) };
  }

  /** Calls `exportName(args)`. Never throws; an instance that trapped is replaced on the next call, as in the cloud. */
  async run(exportName: string, args: readonly ArgValue[]): Promise<FunctionResult<FunctionOutput>> {
    const ex = this.compiled.info.exports.find((e) => e.name === exportName && e.kind === 'func');
    if (ex?.type === undefined) return fail('FERRY_FN_NO_SUCH_EXPORT', `the module exports no function ${exportName}`);
    const result = ex.type.results;
    if (result.length > 1 || (result.length === 1 && !['i32', 'i64', 'f32', 'f64'].includes(result[0]!))) {
      return fail('FERRY_FN_BAD_ARGS', `${exportName} returns ${result.join(',')}, which a call cannot carry`);
    }
    const converted = convertArgs(ex.type, args);
    if (!converted.ok) return converted;
    if (this.instance === undefined || this.instance.dead) {
      const created = await ModuleInstance.create(this.compiled, this.ports);
      if (!created.ok) return failed(instantiationFailure(created.error));
      this.instance = created.value;
    }
    const inst = this.instance;
    const p = this.ports;
    p.emits = [];
    p.logs = [];
    const pagesBefore = inst.bytes().length >>> 16;
    const r = inst.call(exportName, ...converted.value);
    const out = { emits: p.emits, logs: p.logs };
    if (!r.ok) return failed(callFailure(r.error, pagesBefore, inst.bytes().length >>> 16, this.compiled.info.memories[0]?.maximum ?? 1));
    return { ok: true, value: { value: callValue(r.value, result[0]), ...out } };
  }
}
