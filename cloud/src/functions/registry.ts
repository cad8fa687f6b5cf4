/**
 * @module The module registry: content-addressed storage of function modules (key = SHA-256 of the
 * bytes, so an upload is idempotent and a device can name a function by hash before the cloud has it),
 * validated before anything is stored, and a cache of compiled modules by hash. `ModuleStore` is the
 * storage port (a blob table or object store later); the in-memory one is the default.
 */
import { createHash } from 'node:crypto';
import { compile, fnFail, fnOk, type CompiledModule, type CheckOptions, type FnResult } from '@ferry/wasm-host';

export interface ModuleStore {
  get(hash: string): Promise<Uint8Array | undefined>;
  /** Stores bytes under their hash; storing the same hash twice is a no-op. */
  put(hash: string, bytes: Uint8Array): Promise<void>;
}

export class MemoryModuleStore implements ModuleStore {
  private readonly map = new Map<string, Uint8Array>();
  async get(hash: string): Promise<Uint8Array | undefined> {
    return this.map.get(hash);
  }
  async put(hash: string, bytes: Uint8Array): Promise<void> {
    if (!this.map.has(hash)) this.map.set(hash, bytes.slice());
  }
  get size(): number {
    return this.map.size;
  }
}

export const HASH_PATTERN = /^[0-9a-f]{64}$/;
export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** A compiled module plus what the runners need from its header. */
export interface FunctionModule {
  readonly hash: string;
  readonly compiled: CompiledModule;
  /** The bytes, for runners in other processes (they compile their own copy). */
  readonly bytes: Uint8Array;
  /** The declared memory maximum in pages (validated present). */
  readonly maxPages: number;
}

export interface RegistryOptions {
  readonly store?: ModuleStore;
  /** Largest module accepted, bytes (default 1 MiB). */
  readonly maxBytes?: number;
  /** Compiled modules kept in memory (default 256); evicted least recently used. */
  readonly cacheSize?: number;
  /** Total bytes of the cached modules (default 64 MiB): the cache keeps each module's bytes too. */
  readonly cacheBytes?: number;
  /**
   * Caps on tables, globals, functions, locals and segments (default wasm-host's MODULE_LIMITS). Raising
   * them lets through modules that can exhaust a runner's heap at instantiation: the sandbox tests and
   * bench do, to prove a pool worker that dies of it is all that is lost.
   */
  readonly limits?: CheckOptions['limits'];
}

/**
 * A cloud function module imports only ABI functions, owns one bounded exported memory and exports
 * abi_version (ModuleInstance.create refuses a module without it, and it is how hosts refuse an ABI
 * mismatch, docs/abi.md); every other export is a callable function of any signature.
 */
const REQUIRED_EXPORTS = ['abi_version'];

export class ModuleRegistry {
  private readonly store: ModuleStore;
  /** Largest module accepted, bytes. */
  readonly maxBytes: number;
  private readonly cacheSize: number;
  private readonly cacheBytes: number;
  private readonly limits: CheckOptions['limits'];
  private readonly cache = new Map<string, FunctionModule>();
  private cachedBytes = 0;

  constructor(opts: RegistryOptions = {}) {
    this.store = opts.store ?? new MemoryModuleStore();
    this.maxBytes = opts.maxBytes ?? 1024 * 1024;
    this.cacheSize = opts.cacheSize ?? 256;
    this.cacheBytes = opts.cacheBytes ?? 64 * 1024 * 1024;
    this.limits = opts.limits;
  }

  /** Validates against the ABI and the page quota, then stores once; every problem is reported. */
  async upload(bytes: Uint8Array, quota: { maxPages: number }): Promise<FnResult<{ hash: string }>> {
    if (bytes.length > this.maxBytes) return fnFail('FERRY_FN_MODULE_TOO_LARGE', `${bytes.length} bytes > ${this.maxBytes}`);
    const hash = sha256Hex(bytes);
    const m = await this.compileChecked(hash, bytes, quota.maxPages);
    if (!m.ok) return m;
    await this.store.put(hash, bytes);
    return fnOk({ hash });
  }

  /** The compiled module for a hash; undefined when it was never uploaded (the caller asks for it). */
  async get(hash: string): Promise<FunctionModule | undefined> {
    const hit = this.cache.get(hash);
    if (hit !== undefined) {
      this.cache.delete(hash);
      this.cache.set(hash, hit);
      return hit;
    }
    const bytes = await this.store.get(hash);
    if (bytes === undefined) return undefined;
    // Stored bytes were validated on upload; re-check them (a shared store may be written by others)
    // with no quota of their own: the call path checks maxPages against the namespace.
    const m = await this.compileChecked(hash, bytes, Number.MAX_SAFE_INTEGER);
    return m.ok ? m.value : undefined;
  }

  /** The cached module without touching the store (the in-process fast path). */
  cached(hash: string): FunctionModule | undefined {
    return this.cache.get(hash);
  }

  private async compileChecked(hash: string, bytes: Uint8Array, maxPages: number): Promise<FnResult<FunctionModule>> {
    const hit = this.cache.get(hash);
    const opts = {
      requiredExports: REQUIRED_EXPORTS,
      maxPages: Number.MAX_SAFE_INTEGER,
      maxBytes: this.maxBytes,
      ...(this.limits !== undefined && { limits: this.limits }),
    };
    const c = hit === undefined ? await compile(bytes, opts) : { ok: true as const, value: hit.compiled };
    if (!c.ok) {
      const memory = c.errors.filter((e) => e.code === 'FERRY_ABI_MEMORY' && /no maximum/.test(e.message));
      if (memory.length > 0 && memory.length === c.errors.length)
        return fnFail(
          'FERRY_FN_MEMORY_EXCEEDED',
          'the module declares no memory maximum',
          c.errors.map((e) => e.message),
        );
      return fnFail(
        'FERRY_FN_MODULE_INVALID',
        `${c.errors.length} problem(s): ${c.errors.map((e) => e.code).join(', ')}`,
        c.errors.map((e) => e.message),
      );
    }
    const max = c.value.info.memories[0]!.maximum!;
    if (max > maxPages) return fnFail('FERRY_FN_MEMORY_EXCEEDED', `memory maximum ${max} pages > namespace quota ${maxPages}`);
    const fm = hit ?? { hash, compiled: c.value, bytes: bytes.slice(), maxPages: max };
    if (hit === undefined) this.cachedBytes += fm.bytes.length;
    else this.cache.delete(hash);
    this.cache.set(hash, fm);
    while (this.cache.size > 1 && (this.cache.size > this.cacheSize || this.cachedBytes > this.cacheBytes)) {
      const [oldest, m] = this.cache.entries().next().value!;
      this.cache.delete(oldest);
      this.cachedBytes -= m.bytes.length;
    }
    return fnOk(fm);
  }
}
