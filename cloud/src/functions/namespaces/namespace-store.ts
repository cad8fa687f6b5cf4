/**
 * @module Namespaces: shared key-value state per (owner, namespace), isolated per owner, read and written
 * by functions through the same ABI a board uses (state.get/set/key_at). The port is deliberately small
 * and synchronous (state, quota, white-list) so SQLite (one table keyed by owner, namespace, key) or a
 * Redis hash per namespace with a local cache can implement it later.
 */
import type { KeyValueState } from '@ferry/wasm-host';
import { SortedState } from './sorted-state.ts';

export interface NamespaceQuota {
  /** Most keys the namespace may hold. */
  readonly maxKeys: number;
  /** Largest memory maximum (64 KiB pages) a module may declare to run here. */
  readonly maxPages: number;
}

export const DEFAULT_QUOTA: NamespaceQuota = { maxKeys: 1024, maxPages: 16 };

export interface NamespaceStore {
  /** The namespace's state, created empty on first use. Owners never share one: the key is (owner, namespace). */
  state(owner: string, namespace: string): KeyValueState;
  quota(owner: string, namespace: string): NamespaceQuota;
}

/** The owner's white-list of module hashes per namespace: public tokens run only these. */
export interface Whitelist {
  allow(owner: string, namespace: string, hash: string): void;
  disallow(owner: string, namespace: string, hash: string): void;
  has(owner: string, namespace: string, hash: string): boolean;
  list(owner: string, namespace: string): string[];
}

/** NUL cannot occur in an owner id or a namespace name (both validated), so keys never collide. */
const nsKey = (owner: string, namespace: string): string => `${owner}\u0000${namespace}`;

export class MemoryNamespaceStore implements NamespaceStore {
  private readonly spaces = new Map<string, SortedState>();
  private readonly quotas = new Map<string, NamespaceQuota>();
  private readonly defaultQuota: NamespaceQuota;

  constructor(opts: { defaultQuota?: NamespaceQuota } = {}) {
    this.defaultQuota = opts.defaultQuota ?? DEFAULT_QUOTA;
  }

  state(owner: string, namespace: string): SortedState {
    const k = nsKey(owner, namespace);
    let s = this.spaces.get(k);
    if (s === undefined) {
      s = new SortedState(this.quota(owner, namespace).maxKeys);
      this.spaces.set(k, s);
    }
    return s;
  }

  quota(owner: string, namespace: string): NamespaceQuota {
    return this.quotas.get(nsKey(owner, namespace)) ?? this.defaultQuota;
  }

  /** Sets a namespace's quota (an operator's decision; a lower key quota applies to new keys only). */
  setQuota(owner: string, namespace: string, quota: NamespaceQuota): void {
    this.quotas.set(nsKey(owner, namespace), quota);
  }
}

export class MemoryWhitelist implements Whitelist {
  private readonly sets = new Map<string, Set<string>>();
  allow(owner: string, namespace: string, hash: string): void {
    const k = nsKey(owner, namespace);
    let s = this.sets.get(k);
    if (s === undefined) {
      s = new Set();
      this.sets.set(k, s);
    }
    s.add(hash);
  }
  disallow(owner: string, namespace: string, hash: string): void {
    this.sets.get(nsKey(owner, namespace))?.delete(hash);
  }
  has(owner: string, namespace: string, hash: string): boolean {
    return this.sets.get(nsKey(owner, namespace))?.has(hash) ?? false;
  }
  list(owner: string, namespace: string): string[] {
    return [...(this.sets.get(nsKey(owner, namespace)) ?? [])].sort();
  }
}
