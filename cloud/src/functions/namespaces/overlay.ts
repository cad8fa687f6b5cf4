/**
 * @module A write overlay over a namespace's state: a call reads through it and its writes stay in the
 * overlay until `commit`. So a call that traps or times out leaves the namespace as it was, and the
 * in-process and the pooled runner (which works on a snapshot in a worker) have the same semantics:
 * reads see the namespace at call start plus the call's own writes; writes land all at once on success.
 */
import { STATUS } from '@ferry/abi';
import type { KeyValueState } from '@ferry/wasm-host';
import { lowerBound } from './sorted-state.ts';

export class OverlayState implements KeyValueState {
  private readonly base: KeyValueState;
  private readonly writes = new Map<string, Uint8Array>();
  /** Keys the base lacks, sorted; usually empty, so key_at goes straight to the base. */
  private readonly added: string[] = [];
  private readonly maxNewKeys: number;

  constructor(base: KeyValueState, maxNewKeys = Infinity) {
    this.base = base;
    this.maxNewKeys = maxNewKeys;
  }

  get(key: string): Uint8Array | undefined {
    return this.writes.get(key) ?? this.base.get(key);
  }

  set(key: string, value: Uint8Array): number {
    if (!this.writes.has(key) && this.base.get(key) === undefined) {
      if (this.added.length >= this.maxNewKeys) return STATUS.QUOTA_EXCEEDED.value;
      this.added.splice(lowerBound(this.added, key), 0, key);
    }
    this.writes.set(key, value);
    return STATUS.OK.value;
  }

  keyAt(prefix: string, index: number): string | undefined {
    if (this.added.length === 0) return this.base.keyAt(prefix, index);
    // Merge the base's keys with the added ones, both in byte order, up to `index`.
    let b = 0;
    let a = lowerBound(this.added, prefix);
    let bk = this.base.keyAt(prefix, b);
    for (let i = 0; ; i++) {
      const ak = this.added[a];
      const av = ak?.startsWith(prefix) ? ak : undefined;
      if (bk === undefined && av === undefined) return undefined;
      const takeAdded = bk === undefined || (av !== undefined && av < bk);
      const k = takeAdded ? av! : bk!;
      if (i === index) return k;
      if (takeAdded) a++;
      else bk = this.base.keyAt(prefix, ++b);
    }
  }

  /** The writes in order of first write; the pooled runner ships them back from its worker. */
  pending(): [string, Uint8Array][] {
    return [...this.writes];
  }

  /** Applies the writes to the base; returns the keys the base refused (quota reached meanwhile). */
  commit(): string[] {
    return commitWrites(this.base, this.pending());
  }
}

/**
 * A state that can apply several writes as one unit (SqliteNamespaceStore: one SQLite transaction), so a
 * call's writes land all at once in storage too: a crash or an I/O error mid-commit leaves none of them.
 */
export interface AtomicState extends KeyValueState {
  /** Runs `apply` so that its writes all land or, if it throws, none do (nor stay visible). */
  atomically<T>(apply: () => T): T;
}

const isAtomic = (s: KeyValueState): s is AtomicState => typeof (s as Partial<AtomicState>).atomically === 'function';

/** Applies a call's writes in order; one unit when the base is an AtomicState. Returns the refused keys. */
export function commitWrites(base: KeyValueState, writes: readonly (readonly [string, Uint8Array])[]): string[] {
  const apply = (): string[] => {
    const refused: string[] = [];
    for (const [k, v] of writes) if (base.set(k, v) !== STATUS.OK.value) refused.push(k);
    return refused;
  };
  if (writes.length === 0) return [];
  return isAtomic(base) ? base.atomically(apply) : apply();
}
