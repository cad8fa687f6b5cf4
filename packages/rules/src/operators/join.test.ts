/**
 * @module Interval join by example, and against a model that never evicts (so eviction provably loses no match).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { payloads, push, runSteps, sqlJob, tick, type Step } from '@ferry/test-kit/rules';

const JOIN = 'SELECT a.v AS av, b.v AS bv FROM s/a AS a JOIN s/b AS b ON a.id = b.id WITHIN 1s';

describe('join', () => {
  it('matches equal keys within the interval, whichever side comes first', () => {
    const job = sqlJob(JOIN);
    const out = runSteps(job, [
      push('s/b', { id: 1, v: 'b1' }, 1000),
      push('s/a', { id: 1, v: 'a1' }, 1500),
      push('s/a', { id: 2, v: 'a2' }, 1600),
      push('s/b', { id: 1, v: 'b2' }, 2500),
      push('s/b', { id: 1, v: 'b3' }, 2501), // 1001 ms after a1: outside
    ]);
    expect(payloads(out)).toEqual([
      { av: 'a1', bv: 'b1' },
      { av: 'a1', bv: 'b2' },
    ]);
  });

  it('emits every partner in arrival order and merges records for SELECT *', () => {
    const job = sqlJob('SELECT * FROM s/a AS a JOIN s/b AS b ON a.id = b.id WITHIN 1s');
    runSteps(job, [push('s/a', { id: 'k', x: 1 }, 0), push('s/a', { id: 'k', x: 2 }, 1)]);
    expect(payloads(job.push('s/b', { id: 'k', y: 3 }, 2))).toEqual([
      { id: 'k', x: 1, y: 3 },
      { id: 'k', x: 2, y: 3 },
    ]);
  });

  it('drops records more than WITHIN behind time as late, evicts after 2 x WITHIN', () => {
    const job = sqlJob(JOIN);
    runSteps(job, [push('s/a', { id: 1, v: 'old' }, 0), tick(2000)]);
    expect(job.push('s/b', { id: 1, v: 'x' }, 999)).toEqual([]);
    expect(job.status().counters.drops.late).toBe(1);
    expect(payloads(job.push('s/b', { id: 1, v: 'y' }, 1000))).toEqual([{ av: 'old', bv: 'y' }]);
    job.tick(2001);
    expect(job.snapshot().operator).toMatchObject({ left: [], right: [{ ts: 1000 }] });
  });

  it('filters pairs with WHERE over both sides', () => {
    const job = sqlJob('SELECT a.v, b.w FROM s/a AS a JOIN s/b AS b ON a.id = b.id WITHIN 1s WHERE a.v < b.w');
    runSteps(job, [push('s/a', { id: 1, v: 5 }, 0), push('s/a', { id: 1, v: 9 }, 0)]);
    expect(payloads(job.push('s/b', { id: 1, w: 7 }, 0))).toEqual([{ v: 5, w: 7 }]);
  });

  it('a record on both sides (overlapping filters) meets itself once', () => {
    const job = sqlJob('SELECT a.n AS l, b.n AS r FROM s/+ AS a JOIN s/b AS b ON a.id = b.id WITHIN 1s');
    expect(payloads(job.push('s/b', { id: 1, n: 1 }, 0))).toEqual([{ l: 1, r: 1 }]);
    expect(payloads(job.push('s/a', { id: 1, n: 2 }, 0))).toEqual([{ l: 2, r: 1 }]);
  });

  it('counts bad records as errors without buffering them', () => {
    const job = sqlJob(JOIN);
    runSteps(job, [push('s/a', 42, 0), push('s/a', { v: 'no id' }, 0), push('s/a', { id: { x: 1 } }, 0), push('s/a', { id: 1, f: () => 1 }, 0)]);
    expect(job.status().counters.errors).toBe(4);
    expect(job.snapshot().operator).toMatchObject({ left: [], right: [] });
  });

  it('outputs do not alias buffered records', () => {
    const job = sqlJob('SELECT * FROM s/a AS a JOIN s/b AS b ON a.id = b.id WITHIN 1s');
    const original = { id: 1, deep: { v: 1 } };
    job.push('s/a', original, 0);
    original.deep.v = 99; // the caller reuses its object
    const [first] = job.push('s/b', { id: 1 }, 0);
    (first!.payload as { deep: { v: number } }).deep.v = 42;
    expect(payloads(job.push('s/b', { id: 1 }, 0))).toEqual([{ id: 1, deep: { v: 1 } }]);
  });
});

/** Keeps every accepted record forever; matches with all earlier ones of the other side. */
function joinModel(within: number, steps: readonly Step[]): unknown[] {
  let time: number | null = null;
  const sides: { ts: number; id: number; v: number }[][] = [[], []];
  const out: unknown[] = [];
  for (const step of steps) {
    if (step.kind === 'tick') {
      time = Math.max(time ?? step.ts, step.ts);
      continue;
    }
    if (time !== null && step.ts < time - within) continue; // late
    time = Math.max(time ?? step.ts, step.ts);
    const record = step.record as { id: number; v: number };
    const side = step.topic === 's/a' ? 0 : 1;
    for (const other of sides[1 - side] ?? []) {
      if (other.id !== record.id || Math.abs(other.ts - step.ts) > within) continue;
      out.push(side === 0 ? { av: record.v, bv: other.v } : { av: other.v, bv: record.v });
    }
    sides[side]?.push({ ts: step.ts, id: record.id, v: record.v });
  }
  return out;
}

describe('join agrees with a model that never evicts', () => {
  it('for out-of-order interleavings of both streams and ticks', () => {
    const script = fc
      .array(
        fc.oneof(
          {
            weight: 5,
            arbitrary: fc.record({
              side: fc.constantFrom('s/a', 's/b'),
              id: fc.integer({ min: 1, max: 3 }),
              dt: fc.integer({ min: 0, max: 400 }),
              jitter: fc.integer({ min: -1500, max: 0 }),
            }),
          },
          { weight: 1, arbitrary: fc.record({ tickDt: fc.integer({ min: 0, max: 1500 }) }) },
        ),
        { maxLength: 60 },
      )
      .map((items) => {
        let clock = 0;
        return items.map((item, index): Step => {
          if ('tickDt' in item) {
            clock += item.tickDt;
            return tick(clock);
          }
          clock += item.dt;
          return push(item.side, { id: item.id, v: index }, Math.max(0, clock + item.jitter));
        });
      });
    fc.assert(
      fc.property(script, (steps) => {
        expect(payloads(runSteps(sqlJob(JOIN), steps))).toEqual(joinModel(1000, steps));
      }),
      { numRuns: 300 },
    );
  });
});
