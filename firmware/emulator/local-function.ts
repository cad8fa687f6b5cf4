/**
 * @module Runs a function module's export on the board itself, with the function-call contract the cloud
 * runners share (@ferry/wasm-host call-args.ts, call-errors.ts and function-call.ts), so that an answer
 * computed locally and one computed by the cloud differ only in the state they read: args are checked against
 * the export's wasm signature (i64 as a decimal string, a bigint or a safe integer; JSON has no 64-bit
 * integers), results are i32/f32/f64 as a number, i64 as a decimal string, void as null; the ABI offers no
 * sensor or actuator (NO_SUCH_CHANNEL), dev.sign is UNAVAILABLE, dev.id is the board, emits and logs are
 * collected per call; failures carry the same FERRY_FN_* codes as the cloud's. Unlike the cloud, state writes
 * go straight to the board's state (no overlay): a call that traps keeps the writes it made before the trap.
 */
import {
  callFailure,
  callValue,
  compile,
  convertArgs,
  FN_ERRORS,
  FunctionPorts,
  instantiationFailure,
  ModuleInstance,
  resultTypeOf,
  type ArgValue,
  type CallFailure,
  type CompiledModule,
  type FnError,
  type KeyValueState,
  type RunOutput,
} from '@ferry/wasm-host';

export type { ArgValue, LogLine } from '@ferry/wasm-host';

/** A successful call's answer, wherever it ran: the call contract's RunOutput. */
export type FunctionOutput = RunOutput;

/** What a local run needs from the board: its id (dev.id), its state and its clock. An EmulatedBoard fits. */
export interface LocalHost {
  readonly deviceId: string;
  readonly state: KeyValueState;
  readonly clock: { nowMs(): number; uptimeMs(): number };
}

const LOCAL_CODES = [
  'FERRY_FN_MODULE_NEEDED',
  'FERRY_FN_MODULE_INVALID',
  'FERRY_FN_MEMORY_EXCEEDED',
  'FERRY_FN_NO_SUCH_EXPORT',
  'FERRY_FN_BAD_ARGS',
  'FERRY_FN_TRAP',
] as const;
export type LocalFnErrorCode = (typeof LOCAL_CODES)[number];

/** Numbers of the FERRY_FN_* codes a local run or the board's caller produces itself, from the call contract's catalog. */
export const LOCAL_FN_ERRORS = Object.fromEntries(LOCAL_CODES.map((c) => [c, FN_ERRORS[c].num])) as { readonly [C in LocalFnErrorCode]: number };

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

const fail = (code: LocalFnErrorCode, detail: string, details: readonly string[] = []): FunctionResult<never> => ({
  ok: false,
  error: new FunctionCallError(code, detail, 'local', { details }),
});

/** A refusal of the shared contract code (e.g. convertArgs), as the board reports it. */
const refused = (e: FnError): FunctionResult<never> => ({
  ok: false,
  error: new FunctionCallError(e.code, e.message, 'local', { num: e.num, details: e.details }),
});

/** The board's ports for a function call: state and clock from the host, the rest as the cloud offers them. */
class LocalPorts extends FunctionPorts {
  readonly host: LocalHost;
  constructor(host: LocalHost) {
    super();
    this.host = host;
  }
  get deviceId(): string {
    return this.host.deviceId;
  }
  get state(): KeyValueState {
    return this.host.state;
  }
  nowMs(): number {
    return this.host.clock.nowMs();
  }
  uptimeMs(): number {
    return this.host.clock.uptimeMs();
  }
  sign(): Uint8Array | undefined {
    return undefined;
  }
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
    if (!c.ok)
      return fail(
        'FERRY_FN_MODULE_INVALID',
        c.errors.map((e) => e.message).join('; '),
        c.errors.map((e) => e.code),
      );
    return { ok: true, value: new LocalFunction(c.value, host) };
  }

  /** Calls `exportName(args)`. Never throws; an instance that trapped is replaced on the next call, as in the cloud. */
  async run(exportName: string, args: readonly ArgValue[]): Promise<FunctionResult<FunctionOutput>> {
    const ex = this.compiled.info.exports.find((e) => e.name === exportName && e.kind === 'func');
    if (ex?.type === undefined) return fail('FERRY_FN_NO_SUCH_EXPORT', `the module exports no function ${exportName}`);
    const resultType = resultTypeOf(ex.type);
    if (resultType === undefined) return fail('FERRY_FN_BAD_ARGS', `${exportName} returns ${ex.type.results.join(',')}, which a call cannot carry`);
    const converted = convertArgs(ex.type, args);
    if (!converted.ok) return refused(converted.error);
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
    return { ok: true, value: { value: callValue(r.value, resultType), ...out } };
  }
}
