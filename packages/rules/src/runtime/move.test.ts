/**
 * @module Moving a job mid-stream loses and duplicates nothing: for generated input and every split point,
 * job A (first part) -> stop -> snapshot -> JSON -> fresh job B (restore, start) -> second part gives
 * exactly the outputs, counters and watermark of one uninterrupted job.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '@ferry/test-kit/clock';
import { push, runSteps, tick, type Step } from '@ferry/test-kit/rules';
import { compileSql } from '../sql/compile.ts';
import { RuleJob } from './job.ts';
import type { JobOptions, OutputRecord } from './job.ts';

const PLANS = {
  filter: 'SELECT * FROM s/+ WHERE v > 50',
  projection: "SELECT v AS value, room FROM s/+ AS s WHERE NOT (s.room = 'r2')",
  tumbling: 'SELECT room, avg(v) AS a, min(v) AS lo, count(*) AS n FROM s/+ TUMBLING 100ms GROUP BY room',
  sliding: 'SELECT sum(v) AS s, max(v) AS m FROM s/+ SLIDING 100ms 30ms WHERE v >= 0',
  countTumbling: 'SELECT avg(v) AS a, count(v) AS c FROM s/+ COUNT 3 GROUP BY room',
  countSliding: 'SELECT sum(v) AS s FROM s/+ COUNT 4 2',
  join: 'SELECT a.v, b.v AS w FROM s/a AS a JOIN s/b AS b ON a.room = b.room WITHIN 50ms WHERE a.v < b.w',
  selfJoin: 'SELECT * FROM s/+ AS a JOIN s/b AS b ON a.room = b.room WITHIN 40ms',
};

const OPTIONS = { errorLimit: 3, dedupeWindow: 64 };

function newJob(sql: string, options: Partial<JobOptions> = {}): RuleJob {
  // A fixed clock: latency and error timestamps then agree between the runs being compared.
  return new RuleJob(compileSql(sql, 'out'), { clock: new FakeClock(5000), ...OPTIONS, ...options });
}

/** Input with out-of-order timestamps, ticks, other topics, bad records (missing/non-numeric v) and redeliveries. */
const script: fc.Arbitrary<Step[]> = fc
  .array(
    fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({
          topic: fc.constantFrom('s/a', 's/b', 'x/y'),
          room: fc.constantFrom('r1', 'r2'),
          v: fc.oneof(
            { weight: 8, arbitrary: fc.integer({ min: -20, max: 100 }) },
            { weight: 1, arbitrary: fc.constant('bad') },
            { weight: 1, arbitrary: fc.constant(undefined) },
          ),
          dt: fc.integer({ min: 0, max: 30 }),
          jitter: fc.integer({ min: -60, max: 0 }),
          // One input in eight is a redelivery of an earlier one.
          redeliver: fc.oneof({ weight: 7, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.nat() }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ tickDt: fc.integer({ min: 0, max: 120 }) }) },
    ),
    { maxLength: 40 },
  )
  .map((items) => {
    let clock = 0;
    const steps: Step[] = [];
    items.forEach((item, index) => {
      if ('tickDt' in item) {
        clock += item.tickDt;
        steps.push(tick(clock));
        return;
      }
      const earlier = steps.filter((step) => step.kind === 'push');
      const again = item.redeliver === null ? undefined : earlier[item.redeliver % Math.max(1, earlier.length)];
      if (again !== undefined) {
        steps.push(again); // at-least-once: the same input (same id) arrives again
        return;
      }
      clock += item.dt;
      const record = item.v === undefined ? { room: item.room } : { room: item.room, v: item.v, w: 50 };
      steps.push(push(item.topic, record, Math.max(0, clock + item.jitter), `in-${index}`));
    });
    return steps;
  });

function moveAt(sql: string, steps: readonly Step[], split: number, overlap = 0): { outputs: OutputRecord[]; b: RuleJob; wasRunning: boolean } {
  const a = newJob(sql);
  a.start();
  const first = runSteps(a, steps.slice(0, split));
  const wasRunning = a.state === 'RUNNING';
  if (wasRunning) a.stop();
  const snapshot: unknown = JSON.parse(JSON.stringify(a.snapshot()));
  a.uninstall();
  const b = newJob(sql);
  b.restore(snapshot);
  if (wasRunning) b.start();
  // `overlap` re-feeds inputs A already consumed, as a broker redelivering unacknowledged messages would.
  const second = runSteps(b, steps.slice(Math.max(0, split - overlap)));
  return { outputs: [...first, ...second], b, wasRunning };
}

describe('moving a job mid-stream', () => {
  for (const [name, sql] of Object.entries(PLANS)) {
    it(`${name}: A + B at every split point equals one uninterrupted job`, () => {
      fc.assert(
        fc.property(script, (steps) => {
          const whole = newJob(sql);
          whole.start();
          const expected = runSteps(whole, steps);
          for (let split = 0; split <= steps.length; split++) {
            const { outputs, b, wasRunning } = moveAt(sql, steps, split);
            expect(outputs).toEqual(expected);
            const { state, ...status } = b.status();
            const { state: wholeState, ...wholeStatus } = whole.status();
            expect(status).toEqual(wholeStatus);
            // A job that had already failed (STOPPED) when moved arrives INSTALLED: move-in starts only running jobs.
            expect(state).toBe(wasRunning ? wholeState : 'INSTALLED');
          }
        }),
        { numRuns: 40 },
      );
    });
  }

  it('redelivered inputs that A already consumed are dropped by B (identified by input id)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.values(PLANS)), script, fc.integer({ min: 1, max: 5 }), (sql, steps, overlap) => {
        const whole = newJob(sql);
        whole.start();
        const expected = runSteps(whole, steps);
        for (let split = 0; split <= steps.length; split++) {
          const { outputs, b } = moveAt(sql, steps, split, overlap);
          expect(outputs).toEqual(expected);
          // Each replayed input is counted in and dropped (duplicate, or inactive if the job had failed): nothing else changes.
          const replayed = steps.slice(Math.max(0, split - overlap), split).filter((step) => step.kind === 'push').length;
          const counters = b.status().counters;
          const wholeCounters = whole.status().counters;
          expect(counters.in - wholeCounters.in).toBe(replayed);
          expect(counters.dropped - wholeCounters.dropped).toBe(replayed);
          expect({ ...counters, in: 0, dropped: 0, drops: null }).toEqual({ ...wholeCounters, in: 0, dropped: 0, drops: null });
        }
      }),
      { numRuns: 40 },
    );
  });
});
