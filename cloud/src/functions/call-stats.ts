/**
 * @module Calls per function, by owner and content hash (docs/functions.md "Call counters"): how many calls
 * reached a module, how many failed and with which code last, and when the last one was. What the dashboard's
 * functions page and GET /api/v1/functions show. Counted in this process's memory: a restart starts from zero,
 * and in scale-out each worker counts the calls it ran. Bounded per owner: past `perOwner` hashes the one
 * called least recently is forgotten (a caller may name any hash, uploaded or not).
 */

export interface CallStat {
  readonly hash: string;
  readonly calls: number;
  readonly errors: number;
  /** ms since the epoch. */
  readonly lastCallMs: number;
  /** The FERRY_FN_* code of the last failed call. */
  readonly lastError?: string;
}

/** Hashes counted per owner at most (docs/limits.md). */
export const CALL_STATS_PER_OWNER = 1000;

type Entry = { hash: string; calls: number; errors: number; lastCallMs: number; lastError?: string };

export class CallStats {
  readonly #perOwner: number;
  /** By owner, then by hash in order of the last call (a Map keeps insertion order). */
  readonly #m = new Map<string, Map<string, Entry>>();

  constructor(perOwner = CALL_STATS_PER_OWNER) {
    this.#perOwner = perOwner;
  }

  /** One call by `owner` of `hash` at `atMs`; `error` is the failed call's code. */
  record(owner: string, hash: string, atMs: number, error?: string): void {
    let mine = this.#m.get(owner);
    if (mine === undefined) {
      mine = new Map();
      this.#m.set(owner, mine);
    }
    const e = mine.get(hash) ?? { hash, calls: 0, errors: 0, lastCallMs: 0 };
    mine.delete(hash);
    e.calls++;
    e.lastCallMs = atMs;
    if (error !== undefined) {
      e.errors++;
      e.lastError = error;
    }
    mine.set(hash, e);
    if (mine.size > this.#perOwner) mine.delete(mine.keys().next().value as string);
  }

  /** The owner's functions, the most recently called first, at most `limit`. */
  of(owner: string, limit: number): CallStat[] {
    return [...(this.#m.get(owner)?.values() ?? [])]
      .reverse()
      .slice(0, limit)
      .map((e) => ({ ...e }));
  }
}
