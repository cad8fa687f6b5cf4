/**
 * @module The in-memory TimeSeriesStore: one array per stream, kept sorted by ts (appends are nearly
 * always in ts order, so insertion is O(1) amortised). For tests, benchmarks and the embedded default.
 */
import type { Point, QueryLimit, TimeSeriesStore } from './ports.ts';

export class MemoryTimeSeries implements TimeSeriesStore {
  readonly #streams = new Map<string, Point[]>();
  /** The (kid, ep, sq) identities stored per stream: a repeated append is a no-op (ports.ts). */
  readonly #ids = new Map<string, Set<string>>();

  append(stream: string, point: Point): void {
    let ids = this.#ids.get(stream);
    if (ids === undefined) {
      ids = new Set();
      this.#ids.set(stream, ids);
    }
    const id = `${point.kid}\u0000${point.ep}\u0000${point.sq}`;
    if (ids.has(id)) return;
    ids.add(id);
    let s = this.#streams.get(stream);
    if (s === undefined) {
      s = [];
      this.#streams.set(stream, s);
    }
    // Insert after every point with ts <= point.ts: stable, so equal timestamps keep their release order.
    let i = s.length;
    while (i > 0 && s[i - 1]!.ts > point.ts) i--;
    s.splice(i, 0, point);
  }

  query(stream: string, from: number, to: number, limit?: QueryLimit): Point[] {
    const s = this.#streams.get(stream) ?? [];
    const all = s.filter((p) => p.ts >= from && p.ts < to);
    if (limit === undefined) return all;
    const n = Math.max(0, Math.floor(limit.count));
    return limit.newest === true ? all.slice(Math.max(0, all.length - n)) : all.slice(0, n);
  }

  /** Stream names, sorted (for inspection). */
  streams(): string[] {
    return [...this.#streams.keys()].sort();
  }
}
