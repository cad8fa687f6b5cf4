/**
 * @module The one Clock port of the tree. Everything that reads time or waits takes a Clock, so tests drive
 * time by hand (the test kit's FakeClock) and never sleep. A consumer that needs less asks for less with
 * `Pick<Clock, 'now'>`: still this type, so any Clock fits.
 */

/** A pending timer; cancelling one that already fired is a no-op. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Wall clock, Unix milliseconds. */
  now(): number;
  /** Monotonic milliseconds from an arbitrary origin: durations and uptime, never dates. */
  monotonic(): number;
  /** Calls `fn` once after `ms` milliseconds. A system timer never keeps the process alive on its own. */
  setTimeout(fn: () => void, ms: number): Timer;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};
