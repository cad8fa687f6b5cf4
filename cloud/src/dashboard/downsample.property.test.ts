/** The dashboard's downsampler against a naive model, over random series and ranges (fast-check). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { downsample, fieldValue, numericFields } from './downsample.ts';

const sample = fc.tuple(fc.integer({ min: -50, max: 1100 }), fc.double({ min: -1e6, max: 1e6, noNaN: true }));

describe('downsample', () => {
  it('answers at most `points` buckets, each the mean, min, max and count of exactly its samples', () => {
    fc.assert(
      fc.property(
        fc.array(sample, { maxLength: 300 }),
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 1, max: 600 }),
        fc.integer({ min: 1, max: 50 }),
        (xs, from, span, points) => {
          const to = from + span;
          const b = downsample(xs, from, to, points);
          expect(b.t.length).toBeLessThanOrEqual(points);
          const inRange = xs.filter(([t]) => t >= from && t < to);
          expect(b.count.reduce((a, c) => a + c, 0)).toBe(inRange.length);
          for (let i = 0; i < b.t.length; i++) {
            const mine = inRange.filter(([t]) => t >= b.t[i]! && t < b.t[i]! + b.step).map(([, v]) => v);
            expect(mine.length).toBe(b.count[i]);
            expect(b.min[i]).toBe(Math.min(...mine));
            expect(b.max[i]).toBe(Math.max(...mine));
            expect(b.mean[i]).toBeCloseTo(mine.reduce((a, v) => a + v, 0) / mine.length, 3);
            expect(b.min[i]! <= b.mean[i]! + 1e-6 && b.mean[i]! <= b.max[i]! + 1e-6).toBe(true);
          }
          // Buckets are in time order, within the range, and none is empty.
          for (let i = 1; i < b.t.length; i++) expect(b.t[i]!).toBeGreaterThan(b.t[i - 1]!);
          for (const t of b.t) expect(t >= from && t < to).toBe(true);
        },
      ),
    );
  });

  it('keeps a single spike visible in its bucket max', () => {
    const xs: [number, number][] = Array.from({ length: 10_000 }, (_, i) => [i, i === 4321 ? 1000 : 1]);
    const b = downsample(xs, 0, 10_000, 100);
    expect(b.t.length).toBe(100);
    expect(Math.max(...b.max)).toBe(1000);
    expect(Math.max(...b.mean)).toBeLessThan(1000);
  });

  it('finds numeric fields one level deep, each addressable by its name, and ignores the rest', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        for (const [k, n] of numericFields(v)) {
          expect(Number.isFinite(n)).toBe(true);
          expect(k.split('.').length).toBeLessThanOrEqual(2);
          expect(fieldValue(v, k)).toBe(n); // every field found is addressable by its name
        }
      }),
    );
    expect([...numericFields({ t: 21.5, rh: 40, s: 'x', pos: { x: 1, y: 'n' }, l: [1] })]).toEqual([
      ['t', 21.5],
      ['rh', 40],
      ['pos.x', 1],
    ]);
    expect([...numericFields(3)]).toEqual([['value', 3]]);
  });
});
