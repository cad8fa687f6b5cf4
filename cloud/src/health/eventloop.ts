/**
 * @module The event loop's delay (docs/operations.md, "Event loop"): Node's own histogram of how late its
 * timers run (`perf_hooks.monitorEventLoopDelay`), read and reset every check period for the health history,
 * and a stall detector: a delay of `stallMs` or more is a stall, reported once, and over once the loop has run
 * `quietMs` without another. A stall is seen when the loop runs again, as nothing in a stalled process runs;
 * from outside, `/readyz` not answering and the systemd watchdog see it while it lasts.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface EventLoopOptions {
  /** A delay this long or longer is a stall, ms (default 2000). */
  readonly stallMs?: number;
  /** A stall is over once the loop ran this long without another, ms (default 10 000). */
  readonly quietMs?: number;
  readonly now: () => number;
  readonly onStall: (delayMs: number) => void;
  readonly onRecovered: (stalledMs: number) => void;
}

export class EventLoopWatch {
  readonly #o: EventLoopOptions;
  /** Resolution 20 ms: finer costs a timer wake-up more often, for delays nobody acts on. */
  readonly #h = monitorEventLoopDelay({ resolution: 20 });
  /** The last stall seen (wall clock) and its delay, while it is not over. */
  #stall: { at: number; ms: number } | undefined;

  constructor(o: EventLoopOptions) {
    this.#o = o;
  }

  start(): void {
    this.#h.enable();
  }

  stop(): void {
    this.#h.disable();
  }

  /** The longest delay since the last sample, ms; reports a stall, or the end of one. */
  sample(): number {
    const ms = Number.isFinite(this.#h.max) ? this.#h.max / 1e6 : 0;
    this.#h.reset();
    const now = this.#o.now();
    if (ms >= (this.#o.stallMs ?? 2000)) {
      if (this.#stall === undefined) this.#o.onStall(Math.round(ms));
      this.#stall = { at: now, ms: Math.max(ms, this.#stall?.ms ?? 0) };
    } else if (this.#stall !== undefined && now - this.#stall.at >= (this.#o.quietMs ?? 10_000)) {
      const was = this.#stall.ms;
      this.#stall = undefined;
      this.#o.onRecovered(Math.round(was));
    }
    return ms;
  }

  /** Whether a stall is being reported (not over yet). */
  get stalled(): boolean {
    return this.#stall !== undefined;
  }
}
