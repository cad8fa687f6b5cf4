/**
 * @module Time and count windows by example, and against naive reference models over generated input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { payloads, push, runSteps, sqlJob, tick, type Step } from '@ferry/test-kit/rules';

describe('tumbling time windows', () => {
  it('emit per group when the clock passes the window end, groups in arrival order', () => {
    const job = sqlJob('SELECT avg(t) AS avg, room FROM s/+ TUMBLING 10s GROUP BY room');
    expect(
      runSteps(job, [push('s/1', { t: 20, room: 'b' }, 1000), push('s/2', { t: 22, room: 'a' }, 2000), push('s/1', { t: 24, room: 'b' }, 3000), tick(9999)]),
    ).toEqual([]);
    expect(payloads(job.tick(10_000))).toEqual([
      { avg: 22, room: 'b', windowStart: 0, windowEnd: 10_000 },
      { avg: 22, room: 'a', windowStart: 0, windowEnd: 10_000 },
    ]);
    expect(job.tick(20_000)).toEqual([]); // empty windows emit nothing
  });

  it('a later record closes due windows before it counts, and is returned by that push', () => {
    const job = sqlJob('SELECT sum(t) AS s FROM s TUMBLING 10s');
    job.push('s', { t: 1 }, 500);
    expect(payloads(job.push('s', { t: 2 }, 10_500))).toEqual([{ s: 1, windowStart: 0, windowEnd: 10_000 }]);
    expect(payloads(job.tick(20_000))).toEqual([{ s: 2, windowStart: 10_000, windowEnd: 20_000 }]);
  });

  it('accepts out-of-order records while their window is open and drops them as late after', () => {
    const job = sqlJob('SELECT count(*) AS n FROM s TUMBLING 10s');
    runSteps(job, [push('s', {}, 9000), push('s', {}, 1000), tick(10_000), push('s', {}, 9999)]);
    expect(job.status().counters.drops.late).toBe(1);
    expect(payloads(job.tick(20_000))).toEqual([]);
    expect(payloads(runSteps(sqlJob('SELECT count(*) AS n FROM s TUMBLING 10s'), [push('s', {}, 9000), push('s', {}, 1000), tick(10_000)]))).toEqual([
      { n: 2, windowStart: 0, windowEnd: 10_000 },
    ]);
  });

  it('computes every function; count(field) skips missing and null', () => {
    const job = sqlJob('SELECT sum(v) AS s, avg(v) AS a, min(v) AS lo, max(v) AS hi, count(*) AS n, count(w) AS c FROM s TUMBLING 1s');
    runSteps(job, [push('s', { v: 4, w: 1 }, 1), push('s', { v: -2, w: null }, 2), push('s', { v: 7 }, 3)]);
    expect(payloads(job.tick(1000))).toEqual([{ s: 9, a: 3, lo: -2, hi: 7, n: 3, c: 1, windowStart: 0, windowEnd: 1000 }]);
  });

  it('filtered records are dropped but still move time', () => {
    const job = sqlJob('SELECT count(*) AS n FROM s TUMBLING 1s WHERE v > 0');
    job.push('s', { v: 1 }, 10);
    expect(payloads(job.push('s', { v: -1 }, 1500))).toEqual([{ n: 1, windowStart: 0, windowEnd: 1000 }]);
    expect(job.status().counters.drops.filtered).toBe(1);
  });

  it('an evaluation error leaves every window unchanged', () => {
    const job = sqlJob('SELECT sum(v) AS s FROM s SLIDING 2s 1s');
    runSteps(job, [push('s', { v: 1e308 }, 1500), push('s', { v: 1e308 }, 1600), push('s', { v: 'x' }, 1700), push('s', {}, 1800)]);
    expect(job.status().counters.errors).toBe(3);
    expect(job.status().lastError?.code).toBe('FERRY_RULES_EVAL_FIELD_MISSING');
    expect(payloads(job.tick(3000))).toEqual([
      { s: 1e308, windowStart: 0, windowEnd: 2000 },
      { s: 1e308, windowStart: 1000, windowEnd: 3000 },
    ]);
  });
});

describe('sliding time windows', () => {
  it('a record joins every open window containing it', () => {
    const job = sqlJob('SELECT count(*) AS n FROM s SLIDING 10s 5s');
    job.push('s', {}, 7000);
    expect(payloads(job.tick(10_000))).toEqual([{ n: 1, windowStart: 0, windowEnd: 10_000 }]);
    job.push('s', {}, 8000); // [0,10s) closed: counts only in [5s,15s)
    expect(job.status().counters.drops.late).toBe(0);
    expect(payloads(job.tick(15_000))).toEqual([{ n: 2, windowStart: 5000, windowEnd: 15_000 }]);
  });
});

describe('count windows', () => {
  it('tumbling: every size records per group', () => {
    const job = sqlJob('SELECT sum(v) AS s, room FROM s COUNT 2 GROUP BY room');
    const out = runSteps(job, [
      push('s', { v: 1, room: 'a' }, 10),
      push('s', { v: 5, room: 'b' }, 20),
      push('s', { v: 2, room: 'a' }, 30),
      push('s', { v: 3, room: 'a' }, 40),
    ]);
    expect(payloads(out)).toEqual([{ s: 3, room: 'a', windowStart: 10, windowEnd: 30 }]);
    expect(job.tick(1e9)).toEqual([]); // time never closes count windows
  });

  it('sliding: first at size records, then every slide records over the last size', () => {
    const job = sqlJob('SELECT sum(v) AS s FROM s COUNT 3 2');
    const out = runSteps(
      job,
      [1, 2, 3, 4, 5, 6, 7].map((v) => push('s', { v }, v)),
    );
    expect(payloads(out)).toEqual([
      { s: 6, windowStart: 1, windowEnd: 3 },
      { s: 12, windowStart: 3, windowEnd: 5 },
      { s: 18, windowStart: 5, windowEnd: 7 },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------
// Reference models: the same semantics written the naive way (keep every value, recompute at the end).

type Rec = { room: string; v: number };
type Agg = { sum: number; min: number; max: number; n: number };

function aggregate(values: readonly number[]): Agg {
  return { sum: values.reduce((a, b) => a + b, 0), min: Math.min(...values), max: Math.max(...values), n: values.length };
}

function timeModel(size: number, slide: number, steps: readonly Step[]): unknown[] {
  let time: number | null = null;
  const windows = new Map<number, Map<string, number[]>>();
  const out: unknown[] = [];
  const advance = (to: number): void => {
    if (time !== null && to <= time) return;
    time = to;
    for (const start of [...windows.keys()].sort((a, b) => a - b)) {
      if (start + size > to) continue;
      for (const [room, values] of windows.get(start) ?? []) out.push({ room, ...aggregate(values), windowStart: start, windowEnd: start + size });
      windows.delete(start);
    }
  };
  for (const step of steps) {
    if (step.kind === 'tick') {
      advance(step.ts);
      continue;
    }
    const newest = Math.floor(step.ts / slide) * slide;
    if (time !== null && newest + size <= time) continue; // late
    advance(step.ts);
    const record = step.record as Rec;
    for (let start = newest; start > step.ts - size; start -= slide) {
      if (time !== null && start + size <= time) continue;
      const groups = windows.get(start) ?? new Map<string, number[]>();
      windows.set(start, groups);
      groups.set(record.room, [...(groups.get(record.room) ?? []), record.v]);
    }
  }
  return out;
}

function countModel(size: number, slide: number, steps: readonly Step[]): unknown[] {
  const seen = new Map<string, { v: number; ts: number }[]>();
  const out: unknown[] = [];
  for (const step of steps) {
    if (step.kind === 'tick') continue;
    const record = step.record as Rec;
    const all = [...(seen.get(record.room) ?? []), { v: record.v, ts: step.ts }];
    seen.set(record.room, all);
    const n = all.length;
    if (n >= size && (n - size) % slide === 0) {
      const window = all.slice(n - size);
      out.push({ room: record.room, ...aggregate(window.map((entry) => entry.v)), windowStart: window[0]?.ts, windowEnd: window[window.length - 1]?.ts });
    }
  }
  return out;
}

const steps = fc
  .array(
    fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record({
          room: fc.constantFrom('a', 'b', 'c'),
          v: fc.integer({ min: -50, max: 50 }),
          dt: fc.integer({ min: 0, max: 40 }),
          jitter: fc.integer({ min: -80, max: 0 }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ tickDt: fc.integer({ min: 0, max: 100 }) }) },
    ),
    { maxLength: 60 },
  )
  .map((items) => {
    let clock = 0;
    return items.map((item): Step => {
      if ('tickDt' in item) {
        clock += item.tickDt;
        return tick(clock);
      }
      clock += item.dt;
      return push('s/x', { room: item.room, v: item.v }, Math.max(0, clock + item.jitter));
    });
  });

const SELECT = 'SELECT room, sum(v) AS sum, min(v) AS min, max(v) AS max, count(*) AS n FROM s/+';

describe('windows agree with reference models', () => {
  it('time windows (tumbling and sliding, out-of-order input, ticks)', () => {
    fc.assert(
      fc.property(steps, fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 4 }), (script, slideTens, factor) => {
        const slide = slideTens * 10;
        const size = slide * factor;
        const job = sqlJob(`${SELECT} SLIDING ${size}ms ${slide}ms GROUP BY room`);
        expect(payloads(runSteps(job, [...script, tick(1e9)]))).toEqual(timeModel(size, slide, [...script, tick(1e9)]));
      }),
      { numRuns: 200 },
    );
  });

  it('count windows (tumbling and sliding)', () => {
    fc.assert(
      fc.property(steps, fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), (script, size, slideRaw) => {
        const slide = Math.min(size, slideRaw);
        const job = sqlJob(`${SELECT} COUNT ${size} ${slide} GROUP BY room`);
        expect(payloads(runSteps(job, script))).toEqual(countModel(size, slide, script));
      }),
      { numRuns: 200 },
    );
  });
});
