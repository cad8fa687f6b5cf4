/**
 * @module Capped exponential back-off for re-opening a vanished port: initial, initial·factor, … up to
 * max, then max for ever. Pure; the caller drives it with its injected Clock.
 */

export interface BackoffOptions {
  /** First delay after a failure, ms. Default 500. */
  readonly initialMs?: number;
  /** Upper bound, ms. Default 30 000 (a port that is gone for good costs one open() per 30 s). */
  readonly maxMs?: number;
  /** Growth per failed attempt. Default 2. */
  readonly factor?: number;
}

export const BACKOFF_DEFAULTS = { initialMs: 500, maxMs: 30_000, factor: 2 } as const;

/** Delay before re-open attempt `attempt` (0 = the first after a failure). */
export function backoffDelay(attempt: number, o: BackoffOptions = {}): number {
  const initial = o.initialMs ?? BACKOFF_DEFAULTS.initialMs;
  const max = o.maxMs ?? BACKOFF_DEFAULTS.maxMs;
  const factor = o.factor ?? BACKOFF_DEFAULTS.factor;
  // Stop multiplying once capped so a port gone for days cannot overflow to Infinity.
  let d = initial;
  for (let i = 0; i < attempt && d < max; i++) d *= factor;
  return Math.min(d, max);
}
