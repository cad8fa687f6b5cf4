/**
 * @module A sorted in-memory key-value state implementing wasm-host's KeyValueState: keys kept in byte
 * order (printable ASCII, so code-unit order = byte order, docs/abi.md state.key_at) with a binary
 * search, so enumerating n keys by key_at costs O(n log n), not MemoryState's O(n²).
 */
import { STATUS } from '@ferry/abi';
import type { KeyValueState } from '@ferry/wasm-host';

export class SortedState implements KeyValueState {
  private readonly map = new Map<string, Uint8Array>();
  private readonly keys: string[] = [];
  private readonly maxKeys: number;

  constructor(maxKeys: number, entries: Iterable<readonly [string, Uint8Array]> = []) {
    this.maxKeys = maxKeys;
    for (const [k, v] of entries) this.map.set(k, v);
    this.keys.push(...[...this.map.keys()].sort());
  }

  get(key: string): Uint8Array | undefined {
    return this.map.get(key);
  }

  set(key: string, value: Uint8Array): number {
    if (!this.map.has(key)) {
      if (this.map.size >= this.maxKeys) return STATUS.QUOTA_EXCEEDED.value;
      this.keys.splice(lowerBound(this.keys, key), 0, key);
    }
    this.map.set(key, value);
    return STATUS.OK.value;
  }

  keyAt(prefix: string, index: number): string | undefined {
    const k = this.keys[lowerBound(this.keys, prefix) + index];
    return k?.startsWith(prefix) ? k : undefined;
  }

  get size(): number {
    return this.map.size;
  }

  entries(): [string, Uint8Array][] {
    return this.keys.map((k) => [k, this.map.get(k)!]);
  }
}

/** First index whose key is >= `key`. */
export function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Every entry of any KeyValueState, through key_at only (what a snapshot for a worker needs). */
export function snapshotOf(state: KeyValueState): [string, Uint8Array][] {
  if (state instanceof SortedState) return state.entries();
  const out: [string, Uint8Array][] = [];
  for (let i = 0; ; i++) {
    const k = state.keyAt('', i);
    if (k === undefined) return out;
    const v = state.get(k);
    if (v !== undefined) out.push([k, v]);
  }
}
