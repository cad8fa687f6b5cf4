/**
 * @module A manual Clock for tests, so no unit test waits on a real timer: time moves only in advance(),
 * which fires due timers in deadline order, each seeing now() and monotonic() at its own deadline. The
 * wall clock can also be stepped with set(), as an NTP correction would, without moving monotonic time.
 */
import type { Clock, Timer } from '@ferry/base';

interface Pending {
  /** Deadline on the monotonic timeline. */
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

export class FakeClock implements Clock {
  #wall: number;
  #mono = 0;
  #seq = 0;
  #timers = new Set<Pending>();

  /** `startMs`: the wall clock at the start, Unix ms. Monotonic time starts at 0. */
  constructor(startMs = 1_700_000_000_000) {
    this.#wall = startMs;
  }

  now(): number {
    return this.#wall;
  }

  monotonic(): number {
    return this.#mono;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const t: Pending = { at: this.#mono + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.add(t);
    return {
      cancel: () => {
        this.#timers.delete(t);
      },
    };
  }

  /** Moves time forward by `ms`, firing every timer that falls due (including ones scheduled meanwhile). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`advance(${ms}): time only moves forward`);
    const end = this.#mono + ms;
    for (;;) {
      const next = [...this.#timers].filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (next === undefined) break;
      this.#timers.delete(next);
      this.#move(next.at);
      next.fn();
    }
    this.#move(end);
  }

  /** Steps the wall clock to `ms` (either way); monotonic time and pending timers are unaffected. */
  set(ms: number): void {
    this.#wall = ms;
  }

  /** Delays (from now) of the timers still pending, soonest first. */
  pending(): number[] {
    return [...this.#timers].map((t) => t.at - this.#mono).sort((a, b) => a - b);
  }

  #move(mono: number): void {
    this.#wall += mono - this.#mono;
    this.#mono = mono;
  }
}
