/**
 * @module What the process pool and its worker processes say to each other over the IPC channel, and the
 * parent's record of what each worker holds, so a warm call sends only what it needs: a module's bytes go
 * to a worker once (it keeps them compiled), and a namespace's state once, then only the keys that changed
 * since that worker last saw it. Both caches are bounded and the parent decides what a worker forgets
 * (it tells the worker with its next call), so the two sides never disagree about what the worker has.
 */
import type { KeyValueState, ModuleInfo, ResultType } from '@ferry/wasm-host';
import { snapshotOf } from './namespaces/sorted-state.ts';

/** Given to a worker process on its command line. */
export interface WorkerConfig {
  /** Instances a worker keeps, least recently used evicted. */
  readonly maxInstances: number;
}

export type Entries = readonly (readonly [string, Uint8Array])[];

/** A namespace's state for a call: all of it (`full`), or the changes since the worker last had it. */
export interface StateDelta {
  readonly full: boolean;
  readonly set: Entries;
  readonly del: readonly string[];
}

export interface WorkerCall {
  readonly id: number;
  readonly hash: string;
  /** Sent the first time this worker runs the hash. */
  readonly module?: { readonly bytes: Uint8Array; readonly info: ModuleInfo } | undefined;
  /** Modules and namespaces the worker drops before this call (the parent's caches evicted them). */
  readonly forget?: { readonly modules: readonly string[]; readonly spaces: readonly string[] } | undefined;
  /** `${owner}\0${namespace}`. */
  readonly space: string;
  readonly state: StateDelta;
  readonly instanceKey: string;
  readonly maxPages: number;
  readonly exportName: string;
  readonly args: readonly (number | bigint)[];
  readonly resultType: ResultType;
  readonly maxNewKeys: number;
  readonly callerId: string;
  readonly nowMs: number;
  readonly uptimeMs: number;
  readonly signSecret?: Uint8Array | undefined;
}

/** `ms`: the call's run time in the worker (instantiation included), charged to the owner's CPU budget. */
export type WorkerReply =
  | { readonly t: 'ready' }
  | {
      readonly t: 'done';
      readonly id: number;
      readonly ms: number;
      readonly ok: true;
      readonly value: number | string | null;
      readonly emits: readonly string[];
      readonly logs: readonly { level: number; text: string }[];
      readonly writes: Entries;
    }
  | {
      readonly t: 'done';
      readonly id: number;
      readonly ms: number;
      readonly ok: false;
      readonly code: string;
      readonly message: string;
      readonly details: readonly string[];
    };

export interface WorkerCacheLimits {
  /** Compiled modules a worker keeps (default 64) ... */
  readonly modules?: number;
  /** ... and their total bytes (default 32 MiB). */
  readonly moduleBytes?: number;
  /** Namespaces whose state a worker keeps (default 256). */
  readonly spaces?: number;
}

/**
 * The parent's view of one worker's caches. Values are compared by reference: the namespace stores keep the
 * Uint8Array they were given and replace it on a write (nothing writes into a stored value in place), so a
 * value the worker was sent is unchanged as long as the store still returns the same object. A store that
 * returns copies costs a full resend per call, never a stale read.
 */
export class WorkerCaches {
  private readonly modules = new Map<string, number>();
  private readonly spaces = new Map<string, Map<string, Uint8Array>>();
  private moduleBytes = 0;
  private forgetModules: string[] = [];
  private forgetSpaces: string[] = [];
  private readonly limits: Required<WorkerCacheLimits>;

  constructor(limits: WorkerCacheLimits = {}) {
    this.limits = { modules: limits.modules ?? 64, moduleBytes: limits.moduleBytes ?? 32 * 1024 * 1024, spaces: limits.spaces ?? 256 };
  }

  /** True when the worker must be sent the module; marks it held (most recently used). */
  needsModule(hash: string, size: number): boolean {
    const held = this.modules.has(hash);
    if (held) this.modules.delete(hash);
    else this.moduleBytes += size;
    this.modules.set(hash, size);
    while (this.modules.size > 1 && (this.modules.size > this.limits.modules || this.moduleBytes > this.limits.moduleBytes)) {
      const [oldest, n] = this.modules.entries().next().value!;
      this.modules.delete(oldest);
      this.moduleBytes -= n;
      this.forgetModules.push(oldest);
    }
    return !held;
  }

  /** The namespace's state for the worker: the changes since it last had it, or all of it. */
  stateFor(space: string, state: KeyValueState): StateDelta {
    const now = snapshotOf(state);
    const before = this.spaces.get(space);
    const current = new Map(now);
    this.spaces.delete(space);
    this.spaces.set(space, current);
    if (this.spaces.size > this.limits.spaces) {
      const oldest = this.spaces.keys().next().value!;
      this.spaces.delete(oldest);
      this.forgetSpaces.push(oldest);
    }
    if (before === undefined) return { full: true, set: now, del: [] };
    const set = now.filter(([k, v]) => before.get(k) !== v);
    const del: string[] = [];
    if (before.size + set.length > current.size) for (const k of before.keys()) if (!current.has(k)) del.push(k);
    return { full: false, set, del };
  }

  /** The call succeeded: the worker applied its writes to its copy, the parent committed them. */
  committed(space: string, writes: Entries): void {
    const held = this.spaces.get(space);
    if (held !== undefined) for (const [k, v] of writes) held.set(k, v);
  }

  /** The parent could not commit the writes the worker applied: the worker's copy is dropped. */
  drop(space: string): void {
    if (this.spaces.delete(space)) this.forgetSpaces.push(space);
  }

  /** What the worker must drop before the next call; cleared once read. */
  takeForget(): WorkerCall['forget'] {
    if (this.forgetModules.length === 0 && this.forgetSpaces.length === 0) return undefined;
    const f = { modules: this.forgetModules, spaces: this.forgetSpaces };
    this.forgetModules = [];
    this.forgetSpaces = [];
    return f;
  }
}
