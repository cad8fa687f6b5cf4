/**
 * @module The gateway's memory of the request ids it has served. An id is remembered until its request's
 * timestamp leaves the freshness bound (after that the timestamp alone refuses it), so the window holds at
 * most the ids of the last few minutes; past its size it refuses new requests instead of forgetting ids
 * that could still be replayed. The daemon keeps it in a file of its data directory
 * (gateway/src/daemon/control-replay.ts), so a restart forgets nothing; MemoryReplayWindow is for tests
 * and for hosts that never restart with the same key.
 */

export interface ReplayWindow {
  /** Whether `id` is remembered and has not expired at `nowMs`. */
  has(id: string, nowMs: number): boolean;
  /**
   * Remembers `id` until `untilMs`, durably before it returns (the request runs only afterwards). Expired ids
   * are forgotten first; 'full' when the window still holds its maximum of unexpired ids. May throw (storage).
   */
  add(id: string, untilMs: number, nowMs: number): 'added' | 'full';
}

/** Ids remembered at most (docs/limits.md, "Gateway"). */
export const DEFAULT_REPLAY_WINDOW = 10_000;

export class MemoryReplayWindow implements ReplayWindow {
  readonly #ids = new Map<string, number>();
  readonly #max: number;
  constructor(max = DEFAULT_REPLAY_WINDOW) {
    this.#max = max;
  }
  has(id: string, nowMs: number): boolean {
    const until = this.#ids.get(id);
    return until !== undefined && until >= nowMs;
  }
  add(id: string, untilMs: number, nowMs: number): 'added' | 'full' {
    for (const [k, until] of this.#ids) if (until < nowMs) this.#ids.delete(k);
    if (this.#ids.size >= this.#max) return 'full';
    this.#ids.set(id, untilMs);
    return 'added';
  }
  get size(): number {
    return this.#ids.size;
  }
}
