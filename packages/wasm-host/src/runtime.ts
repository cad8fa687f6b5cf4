/**
 * @module Runs a firmware module's exports against the ABI in Node. Implements every host function of
 * the table over injected ports (clock, sensor, actuator, state, emit, sign, log), checks every
 * (pointer, length) pair like WAMR's `*~` does, and turns traps and aborts into typed errors: a call
 * never throws. Shared by the emulated board and (later) the cloud's function runtime.
 */
import { ABI_VERSION, AbiError, LIMITS, STATUS, type AbiErrorCode, type AbiExports, type AbiImports } from '@ferry/abi';
import { checkModule, type CheckOptions } from './abi-check.ts';
import type { ModuleInfo } from './inspect.ts';

/** Key-value state as the ABI sees it (a board's local state, or a cloud namespace). */
export interface KeyValueState {
  get(key: string): Uint8Array | undefined;
  /** Returns an ABI status (0, or QUOTA_EXCEEDED). */
  set(key: string, value: Uint8Array): number;
  /** The index-th key with this prefix in byte order, or undefined past the end. */
  keyAt(prefix: string, index: number): string | undefined;
}

export interface BoardPorts {
  readonly deviceId: string;
  nowMs(): number;
  uptimeMs(): number;
  /** A reading in hundredths of the unit, or the ABI status explaining why there is none. */
  sensorRead(channel: number): SensorReading;
  actuatorSet(channel: number, value: number): number;
  readonly state: KeyValueState;
  emit(token: Uint8Array): number;
  /** HMAC-SHA256 with the device key, or undefined when no key is provisioned. */
  sign(data: Uint8Array): Uint8Array | undefined;
  log(level: number, text: string): void;
  /**
   * The body of the signed command being delivered (`cmd.read`), verified by the host; undefined outside a
   * `command()` call or on a host that takes no commands (the cloud's runners).
   */
  commandBody?(): Uint8Array | undefined;
}

export type SensorReading = { readonly ok: true; readonly centi: number } | { readonly ok: false; readonly status: number };

export type CallResult = { ok: true; value: number } | { ok: false; error: AbiError };

export interface CompiledModule {
  readonly module: WebAssembly.Module;
  readonly info: ModuleInfo;
}

/** Thrown inside host functions to unwind the wasm stack; caught in `call` and never seen by callers. */
class HostTrap extends Error {
  readonly abiError: AbiError;
  constructor(abiError: AbiError) {
    super(abiError.message);
    this.abiError = abiError;
  }
}

const PRINTABLE = /^[\x21-\x7e]*$/;
const utf8 = new TextDecoder();
const latin1 = new TextDecoder('latin1');

/** Validates and compiles; every problem is reported as a typed error. */
export async function compile(bytes: Uint8Array, opts?: CheckOptions): Promise<{ ok: true; value: CompiledModule } | { ok: false; errors: AbiError[] }> {
  const checked = checkModule(bytes, opts);
  if (!checked.ok) return checked;
  try {
    return { ok: true, value: { module: await WebAssembly.compile(new Uint8Array(bytes)), info: checked.value } };
  } catch (e) {
    return { ok: false, errors: [new AbiError('FERRY_ABI_MALFORMED', (e as Error).message)] };
  }
}

export class ModuleInstance {
  private memory!: WebAssembly.Memory;
  private exports!: AbiExports & Record<string, unknown>;
  private deadReason: string | undefined;

  private readonly ports: BoardPorts;
  private constructor(ports: BoardPorts) {
    this.ports = ports;
  }

  /** Instantiates a compiled module over the ports and checks abi_version(). */
  static async create(compiled: CompiledModule, ports: BoardPorts): Promise<{ ok: true; value: ModuleInstance } | { ok: false; error: AbiError }> {
    const inst = new ModuleInstance(ports);
    try {
      const instance = await WebAssembly.instantiate(compiled.module, inst.imports() as unknown as WebAssembly.Imports);
      inst.memory = instance.exports['memory'] as WebAssembly.Memory;
      inst.exports = instance.exports as unknown as AbiExports & Record<string, unknown>;
    } catch (e) {
      return { ok: false, error: e instanceof HostTrap ? e.abiError : new AbiError('FERRY_ABI_TRAP', `start function: ${(e as Error).message}`) };
    }
    const v = inst.call('abi_version');
    if (!v.ok) return v;
    if (v.value !== ABI_VERSION) return { ok: false, error: new AbiError('FERRY_ABI_VERSION', `module built for ABI ${v.value}, host speaks ${ABI_VERSION}`) };
    return { ok: true, value: inst };
  }

  get dead(): boolean {
    return this.deadReason !== undefined;
  }

  /** Calls an export; traps, aborts and out-of-bounds pointers become typed errors and kill the instance. */
  call(name: string, ...args: (number | bigint)[]): CallResult {
    if (this.deadReason !== undefined) return { ok: false, error: new AbiError('FERRY_ABI_DEAD', this.deadReason) };
    const fn = this.exports[name];
    if (typeof fn !== 'function') return { ok: false, error: new AbiError('FERRY_ABI_MISSING_EXPORT', `export ${name} is missing`) };
    try {
      const r: unknown = fn(...args);
      return { ok: true, value: typeof r === 'bigint' ? Number(r) : typeof r === 'number' ? r : 0 };
    } catch (e) {
      const error =
        e instanceof HostTrap
          ? e.abiError
          : e instanceof WebAssembly.RuntimeError
            ? new AbiError('FERRY_ABI_TRAP', e.message)
            : new AbiError('FERRY_ABI_TRAP', `host port failed: ${(e as Error).message ?? String(e)}`);
      this.deadReason = `${error.code} in ${name}(): ${error.message}`;
      return { ok: false, error };
    }
  }

  /** A view of linear memory (re-created per call: memory.grow detaches old buffers). */
  bytes(): Uint8Array {
    return new Uint8Array(this.memory.buffer);
  }

  private range(ptr: number, len: number, what: string): Uint8Array {
    const p = ptr >>> 0;
    const n = len >>> 0;
    const mem = this.bytes();
    if (p + n > mem.length) throw new HostTrap(new AbiError('FERRY_ABI_OUT_OF_BOUNDS', `${what}: [${p}, ${p + n}) outside ${mem.length} bytes`));
    return mem.subarray(p, p + n);
  }

  private asciiKey(ptr: number, len: number, what: string, allowEmpty: boolean): string | undefined {
    const b = this.range(ptr, len, what);
    if ((!allowEmpty && b.length === 0) || b.length > LIMITS.stateKeyMax) return undefined;
    const s = latin1.decode(b);
    return PRINTABLE.test(s) ? s : undefined;
  }

  private imports(): AbiImports {
    const p = this.ports;
    const S = STATUS;
    const trap = (code: AbiErrorCode, detail: string): never => {
      throw new HostTrap(new AbiError(code, detail));
    };
    return {
      clock: {
        now_ms: () => BigInt(Math.floor(p.nowMs())),
        uptime_ms: () => BigInt(Math.floor(p.uptimeMs())),
      },
      sensor: {
        read: (channel, out, outLen) => {
          const dst = this.range(out, outLen, 'sensor.read out');
          if (dst.length !== 4) return S.BAD_ARGUMENT.value;
          const r = p.sensorRead(channel);
          if (!r.ok) return r.status;
          new DataView(dst.buffer, dst.byteOffset, 4).setInt32(0, r.centi, true);
          return S.OK.value;
        },
      },
      actuator: { set: (channel, value) => p.actuatorSet(channel, value) },
      state: {
        get: (key, keyLen, out, outCap) => {
          const k = this.asciiKey(key, keyLen, 'state.get key', false);
          const dst = this.range(out, outCap, 'state.get out');
          if (k === undefined) return S.BAD_ARGUMENT.value;
          const v = p.state.get(k);
          if (v === undefined) return S.NOT_FOUND.value;
          if (v.length > dst.length) return S.BUFFER_TOO_SMALL.value;
          dst.set(v);
          return v.length;
        },
        set: (key, keyLen, value, valueLen) => {
          const k = this.asciiKey(key, keyLen, 'state.set key', false);
          const v = this.range(value, valueLen, 'state.set value');
          if (k === undefined || v.length > LIMITS.stateValueMax) return S.BAD_ARGUMENT.value;
          return p.state.set(k, v.slice());
        },
        key_at: (prefix, prefixLen, index, out, outCap) => {
          const pre = this.asciiKey(prefix, prefixLen, 'state.key_at prefix', true);
          const dst = this.range(out, outCap, 'state.key_at out');
          if (pre === undefined || index < 0) return S.BAD_ARGUMENT.value;
          const k = p.state.keyAt(pre, index);
          if (k === undefined) return S.NOT_FOUND.value;
          if (k.length > dst.length) return S.BUFFER_TOO_SMALL.value;
          for (let i = 0; i < k.length; i++) dst[i] = k.charCodeAt(i);
          return k.length;
        },
      },
      msg: {
        emit: (data, dataLen) => {
          const b = this.range(data, dataLen, 'msg.emit');
          if (b.length === 0 || b.length > LIMITS.emitMax) return S.BAD_ARGUMENT.value;
          return p.emit(b.slice());
        },
      },
      dev: {
        id: (out, outCap) => {
          const dst = this.range(out, outCap, 'dev.id out');
          if (p.deviceId.length > dst.length) return S.BUFFER_TOO_SMALL.value;
          for (let i = 0; i < p.deviceId.length; i++) dst[i] = p.deviceId.charCodeAt(i);
          return p.deviceId.length;
        },
        sign: (data, dataLen, mac, macLen) => {
          const src = this.range(data, dataLen, 'dev.sign data');
          const dst = this.range(mac, macLen, 'dev.sign mac');
          if (dst.length !== 32) return S.BAD_ARGUMENT.value;
          const tag = p.sign(src);
          if (tag === undefined) return S.UNAVAILABLE.value;
          dst.set(tag);
          return 32;
        },
      },
      cmd: {
        read: (out, outCap) => {
          const dst = this.range(out, outCap, 'cmd.read out');
          const body = p.commandBody?.();
          if (body === undefined) return S.NOT_FOUND.value;
          if (body.length > dst.length) return S.BUFFER_TOO_SMALL.value;
          dst.set(body);
          return body.length;
        },
      },
      log: {
        write: (level, text, textLen) => {
          const b = this.range(text, textLen, 'log.write');
          p.log(level >= 0 && level <= 3 ? level : 3, utf8.decode(b.subarray(0, LIMITS.logMax)));
        },
      },
      sys: {
        abort: (message, messageLen, file, fileLen, line, column) => {
          const m = utf8.decode(this.range(message, messageLen, 'sys.abort message'));
          const f = utf8.decode(this.range(file, fileLen, 'sys.abort file'));
          trap('FERRY_ABI_ABORT', `${m} at ${f}:${line}:${column}`);
        },
      },
    };
  }
}

/** Sorted in-memory state (a board's RAM, or a test namespace). */
export class MemoryState implements KeyValueState {
  private readonly map = new Map<string, Uint8Array>();
  private sorted: string[] | undefined;
  private readonly maxKeys: number;
  constructor(maxKeys = 256) {
    this.maxKeys = maxKeys;
  }
  get(key: string): Uint8Array | undefined {
    return this.map.get(key);
  }
  set(key: string, value: Uint8Array): number {
    if (!this.map.has(key)) {
      if (this.map.size >= this.maxKeys) return STATUS.QUOTA_EXCEEDED.value;
      this.sorted = undefined;
    }
    this.map.set(key, value);
    return STATUS.OK.value;
  }
  keyAt(prefix: string, index: number): string | undefined {
    this.sorted ??= [...this.map.keys()].sort();
    let seen = 0;
    for (const k of this.sorted) if (k.startsWith(prefix) && seen++ === index) return k;
    return undefined;
  }
  setText(key: string, value: string): void {
    this.set(key, new TextEncoder().encode(value));
  }
  getText(key: string): string | undefined {
    const v = this.map.get(key);
    return v === undefined ? undefined : utf8.decode(v);
  }
  delete(key: string): void {
    if (this.map.delete(key)) this.sorted = undefined;
  }
}
