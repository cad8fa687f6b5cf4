/** @module Capped exponential back-off. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.ts';

describe('backoffDelay', () => {
  it('doubles from initialMs and stays at maxMs', () => {
    expect(Array.from({ length: 8 }, (_, i) => backoffDelay(i))).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(Array.from({ length: 4 }, (_, i) => backoffDelay(i, { initialMs: 100, maxMs: 250, factor: 3 }))).toEqual([100, 250, 250, 250]);
  });

  it('never decreases, never passes max, and stays finite for huge attempt numbers', () => {
    fc.assert(
      fc.property(fc.nat(1_000_000), fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 100_000 }), (n, initialMs, extra) => {
        const o = { initialMs, maxMs: initialMs + extra };
        const d = backoffDelay(n, o);
        return Number.isFinite(d) && d <= o.maxMs && d >= Math.min(initialMs, o.maxMs) && backoffDelay(n + 1, o) >= d;
      }),
    );
  });
});
