/**
 * @module The TimeSeriesStore conformance suite: the contract of ports.ts — `query(stream,
 * from, to)` returns the points with from <= ts < to, by ts then append order, streams independent, values
 * round-tripped as JSON. Call `timeSeriesCases(name, make)` from each store's test file.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MaybePromise, Point, TimeSeriesStore } from '../ingest/ports.ts';

const p = (ts: number, sq: number, value: unknown = sq): Point => ({ ts, kid: 'a', ep: 1, sq, value });

export function timeSeriesCases(name: string, make: () => MaybePromise<TimeSeriesStore>): void {
  describe(`TimeSeriesStore conformance: ${name}`, () => {
    it('queries [from, to) by ts; equal timestamps keep append order; streams are separate', async () => {
      const s = await make();
      for (const x of [p(10, 0), p(30, 1), p(20, 2), p(20, 3), p(40, 4)]) await s.append('a/tel', x);
      await s.append('b/tel', p(15, 9));
      expect((await s.query('a/tel', 20, 40)).map((x) => x.sq)).toEqual([2, 3, 1]);
      expect((await s.query('a/tel', 0, Infinity)).map((x) => x.ts)).toEqual([10, 20, 20, 30, 40]);
      expect((await s.query('a/tel', -Infinity, 10)).map((x) => x.ts)).toEqual([]);
      expect(await s.query('nope', 0, 100)).toEqual([]);
      expect(await s.query('b/tel', 0, 100)).toEqual([p(15, 9)]);
      // A limit reads the first or the newest points of the range, answered in ts order either way.
      expect((await s.query('a/tel', 0, 100, { count: 2 })).map((x) => x.sq)).toEqual([0, 2]);
      expect((await s.query('a/tel', 0, 100, { count: 3, newest: true })).map((x) => x.sq)).toEqual([3, 1, 4]);
      expect((await s.query('a/tel', 20, 21, { count: 1, newest: true })).map((x) => x.sq)).toEqual([3]);
      expect(await s.query('a/tel', 0, 100, { count: 0 })).toEqual([]);
    });
    it('round-trips JSON values and point fields exactly', async () => {
      const s = await make();
      const v = { group: 7, parts: 3, missing: [], values: [{ t: 21.5, 'ü/x': 'é"\\' }, null, [1, -2.5e-7, 1.7e308]], empty: {} };
      const pt: Point = { ts: 1_767_225_600_123, kid: 'dev-1.x_Y', ep: 4_294_967_295, sq: 4_294_967_294, value: v };
      await s.append('dev-1.x_Y/tel', pt);
      await s.append('dev-1.x_Y/tel', { ...pt, sq: pt.sq - 1, ts: pt.ts + 0.5, value: null });
      expect(await s.query('dev-1.x_Y/tel', pt.ts, pt.ts + 1)).toEqual([pt, { ...pt, sq: pt.sq - 1, ts: pt.ts + 0.5, value: null }]);
    });
    it('a point appended again under the same (kid, ep, sq) is a no-op that keeps the first', async () => {
      const s = await make();
      const first: Point = { ts: 100, kid: 'k', ep: 2, sq: 7, value: { t: 1 } };
      await s.append('k/tel', first);
      await s.append('k/tel', first);
      await s.append('k/tel', { ...first, ts: 50, value: { t: 2 } });
      // Another identity (kid, epoch or seq differs), or the same identity in another stream, is a new point.
      await s.append('k/tel', { ...first, kid: 'k2' });
      await s.append('k/tel', { ...first, ep: 3 });
      await s.append('k/tel', { ...first, sq: 8 });
      await s.append('k/other', first);
      expect(await s.query('k/tel', 0, 1000)).toEqual([first, { ...first, kid: 'k2' }, { ...first, ep: 3 }, { ...first, sq: 8 }]);
      expect(await s.query('k/other', 0, 1000)).toEqual([first]);
    });
    it('matches a sorted list on any sequence of appends and range queries', async () => {
      const arb = fc.array(fc.record({ stream: fc.constantFrom('s1', 's2', 'x/{y}'), ts: fc.integer({ min: -5, max: 40 }) }), { maxLength: 40 });
      await fc.assert(
        fc.asyncProperty(
          arb,
          fc.integer({ min: -6, max: 41 }),
          fc.integer({ min: -6, max: 41 }),
          fc.integer({ min: 0, max: 12 }),
          async (ops, from, to, count) => {
            const s = await make();
            const model = new Map<string, Point[]>();
            for (const [i, o] of ops.entries()) {
              const pt = p(o.ts, i, { i });
              await s.append(o.stream, pt);
              model.set(o.stream, [...(model.get(o.stream) ?? []), pt]);
            }
            for (const stream of ['s1', 's2', 'x/{y}']) {
              const want = (model.get(stream) ?? []).filter((x) => x.ts >= from && x.ts < to).sort((a, b) => a.ts - b.ts); // Array sort is stable (ES2019)
              expect(await s.query(stream, from, to)).toEqual(want);
              expect(await s.query(stream, from, to, { count })).toEqual(want.slice(0, count));
              expect(await s.query(stream, from, to, { count, newest: true })).toEqual(want.slice(Math.max(0, want.length - count)));
            }
          },
        ),
        { numRuns: 60 },
      );
    });
  });
}
