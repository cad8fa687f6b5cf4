/**
 * @module The event loop's delay (docs/operations.md, "Event loop"): how late a 20 ms timer runs, the longest
 * since the last sample, read every check period for the health history, and a stall detector: a delay of `stallMs` or more is a stall, reported once, and over once the loop has run
 * `quietMs` without another. A stall is seen when the loop runs again, as nothing in a stalled process runs;
 * from outside, `/readyz` not answering and the systemd watchdog see it while it lasts.
 */
export interface EventLoopOptions {
  /** A delay this long or longer is a stall, ms (default 2000). */
  readonly stallMs?: number;
  /** A stall is over once the loop ran this long without another, ms (default 10 000). */
  readonly quietMs?: number;
  readonly now: () => number;
  readonly onStall: (delayMs: number) => void;
  readonly onRecovered: (stalledMs: number) => void;
}

/** The timer's period: finer costs wake-ups for delays nobody acts on. */
const RESOLUTION_MS = 20;

export class EventLoopWatch {
  readonly #o: EventLoopOptions;
  #timer: NodeJS.Timeout | undefined;
  /** When the timer last ran, or the last sample took the delay so far (performance.now()). */
  #last = 0;
  /** The longest delay since the last sample, ms. */
  #max = 0;
  /** The last stall seen (wall clock) and its delay, while it is not over. */
  #stall: { at: number; ms: number } | undefined;

  constructor(o: EventLoopOptions) {
    this.#o = o;
  }

  /**
   * Not Node's `monitorEventLoopDelay`: its reset also forgets when its timer last ran, so a stall that ends
   * just before a sample, ahead of its timer, is never counted.
   */
  start(): void {
    this.#last = performance.now();
    this.#timer = setInterval(() => {
      this.#late(performance.now());
    }, RESOLUTION_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** The longest delay since the last sample, ms (a stall not yet seen by the timer included); reports a stall, or the end of one. */
  sample(): number {
    this.#late(performance.now());
    const ms = this.#max;
    this.#max = 0;
    const now = this.#o.now();
    if (ms >= (this.#o.stallMs ?? 2000)) {
      const fresh = this.#stall === undefined;
      this.#stall = { at: now, ms: Math.max(ms, this.#stall?.ms ?? 0) };
      if (fresh) this.#o.onStall(Math.round(ms));
    } else if (this.#stall !== undefined && now - this.#stall.at >= (this.#o.quietMs ?? 10_000)) {
      const was = this.#stall.ms;
      this.#stall = undefined;
      this.#o.onRecovered(Math.round(was));
    }
    return ms;
  }

  /** Counts the time since the timer's last run beyond its period as delay, and starts again from `now`. */
  #late(now: number): void {
    this.#max = Math.max(this.#max, now - this.#last - RESOLUTION_MS);
    this.#last = now;
  }

  /** Whether a stall is being reported (not over yet). */
  get stalled(): boolean {
    return this.#stall !== undefined;
  }
}
