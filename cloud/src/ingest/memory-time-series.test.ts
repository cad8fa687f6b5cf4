/** Unit tests of the in-memory time-series store. */
import { describe, expect, it } from 'vitest';
import { MemoryTimeSeries } from './memory-time-series.ts';

const p = (ts: number, sq: number) => ({ ts, kid: 'a', ep: 1, sq, value: sq });

describe('MemoryTimeSeries', () => {
  it('queries [from, to) by ts; equal timestamps keep append order; streams are separate', () => {
    const s = new MemoryTimeSeries();
    for (const x of [p(10, 0), p(30, 1), p(20, 2), p(20, 3), p(40, 4)]) s.append('a/tel', x);
    s.append('b/tel', p(15, 9));
    expect(s.query('a/tel', 20, 40).map((x) => x.sq)).toEqual([2, 3, 1]);
    expect(s.query('a/tel', 0, Infinity).map((x) => x.ts)).toEqual([10, 20, 20, 30, 40]);
    expect(s.query('nope', 0, 100)).toEqual([]);
    expect(s.streams()).toEqual(['a/tel', 'b/tel']);
  });
});
