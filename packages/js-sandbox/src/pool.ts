/**
 * @module The pool of owners' sandboxes over one QuickJS WebAssembly module. Each owner gets its own
 * runtime (its own heap limit, stack limit and deadline), created at its first call; at most `maxOwners`
 * are kept, the least recently used is disposed first, so the module's memory stays below about
 * `maxOwners x memoryBytes`. Calls are synchronous: the engine runs on the caller's thread, so a call
 * that times out holds that thread for its deadline (docs/js-sandbox.md).
 *
 * If the module fails underneath a call (the host's stack exhausted inside the engine, which leaves the
 * engine's state undefined), it is abandoned whole: every owner's runtime goes with it and is rebuilt on
 * its next call, on a spare module loaded ahead of time; a new spare loads in the background.
 */
import { RELEASE_SYNC, type QuickJSWASMModule, newQuickJSWASMModule } from 'quickjs-emscripten';
import { type JsResult, jsFail } from './errors.ts';
import { DEFAULT_LIMITS, type JsCallLimits, type JsLimits, limitsWith } from './limits.ts';
import { type Engine, JsSandbox } from './sandbox.ts';

export interface JsSandboxPoolOptions {
  /** Limits of every owner's runtime and the default limits of a call. */
  readonly limits?: Partial<JsLimits>;
  /** Owners' runtimes kept at once (default 64). */
  readonly maxOwners?: number;
}

export interface JsSandboxStats {
  readonly owners: number;
  readonly functions: number;
  /** Owners' runtimes discarded (out of memory, a global left behind) since the pool started. */
  readonly resets: number;
  /** Times the WebAssembly module was replaced after a fault. */
  readonly faults: number;
  /** Size of the live module's linear memory (it grows, never shrinks: a leak shows here), bytes. */
  readonly wasmMemoryBytes: number;
}

/** The linear memory of an emscripten module; quickjs-emscripten keeps the module in a protected field. */
const heapBytes = (m: QuickJSWASMModule | undefined): number =>
  (m as unknown as { module?: { HEAPU8?: Uint8Array } } | undefined)?.module?.HEAPU8?.byteLength ?? 0;

const loadModule = (): Promise<QuickJSWASMModule> => newQuickJSWASMModule(RELEASE_SYNC);

export class JsSandboxPool {
  readonly limits: JsLimits;
  readonly maxOwners: number;
  readonly #owners = new Map<string, JsSandbox>();
  #module: QuickJSWASMModule | undefined;
  #spare: QuickJSWASMModule | undefined;
  #loading: Promise<void> | undefined;
  #generation = 0;
  #faults = 0;
  #resets = 0;
  #closed = false;
  readonly #engine: Engine;

  private constructor(module: QuickJSWASMModule, spare: QuickJSWASMModule, options: JsSandboxPoolOptions) {
    this.limits = limitsWith(DEFAULT_LIMITS, options.limits);
    this.maxOwners = Math.max(1, Math.floor(options.maxOwners ?? 64));
    this.#module = module;
    this.#spare = spare;
    const pool = this;
    this.#engine = {
      module: () => pool.#module,
      get generation() {
        return pool.#generation;
      },
      fault: (cause) => pool.#fault(cause),
    };
  }

  /** Loads the engine (and a spare to switch to after a fault). */
  static async create(options: JsSandboxPoolOptions = {}): Promise<JsSandboxPool> {
    const [module, spare] = await Promise.all([loadModule(), loadModule()]);
    return new JsSandboxPool(module, spare, options);
  }

  /** The owner's sandbox (created on first use; the least recently used owner beyond `maxOwners` is disposed). */
  forOwner(owner: string): JsSandbox {
    if (this.#closed) throw new Error('the sandbox pool is closed');
    let box = this.#owners.get(owner);
    if (box !== undefined) {
      this.#owners.delete(owner);
      this.#owners.set(owner, box);
      return box;
    }
    box = new JsSandbox(owner, this.#engine, this.limits);
    this.#owners.set(owner, box);
    for (const [old, b] of this.#owners) {
      if (this.#owners.size <= this.maxOwners) break;
      this.#owners.delete(old);
      this.#retire(b);
    }
    return box;
  }

  /** `forOwner(owner).run(source, args, limits)`; after `close`, `FERRY_JS_UNAVAILABLE`. */
  run(owner: string, source: string, args: readonly unknown[], limits?: Partial<JsCallLimits>): JsResult {
    if (this.#closed) return jsFail('FERRY_JS_UNAVAILABLE', 'the sandbox pool is closed');
    return this.forOwner(owner).run(source, args, limits);
  }

  /** Disposes the owner's runtime and compiled functions (an owner removed, or its functions changed). */
  drop(owner: string): void {
    const box = this.#owners.get(owner);
    if (box === undefined) return;
    this.#owners.delete(owner);
    this.#retire(box);
  }

  stats(): JsSandboxStats {
    let functions = 0;
    let resets = this.#resets;
    for (const b of this.#owners.values()) {
      functions += b.functions;
      resets += b.resets;
    }
    return { owners: this.#owners.size, functions, resets, faults: this.#faults, wasmMemoryBytes: heapBytes(this.#module) };
  }

  /** Resolves once a spare module is loaded (after a fault); for tests and orderly start-up. */
  async ready(): Promise<void> {
    while (this.#loading !== undefined) await this.#loading;
  }

  /** Disposes every runtime; the pool refuses further owners. */
  close(): void {
    this.#closed = true;
    for (const b of this.#owners.values()) this.#retire(b);
    this.#owners.clear();
  }

  #retire(box: JsSandbox): void {
    this.#resets += box.resets;
    box.dispose();
  }

  #fault(_cause: unknown): void {
    this.#faults++;
    this.#generation++;
    this.#module = this.#spare;
    this.#spare = undefined;
    if (this.#loading === undefined && !this.#closed) {
      this.#loading = (async () => {
        try {
          const next = await loadModule();
          if (this.#module === undefined) this.#module = next;
          else this.#spare = next;
        } finally {
          this.#loading = undefined;
        }
      })();
    }
  }
}
