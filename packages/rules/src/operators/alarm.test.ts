/**
 * @module The alarm operator through a RuleJob: edges per source, forMs raised by time alone, M of N, the
 * missing-data policies, what is not a sample, the source cap, and snapshots that keep raised sources and
 * pending streaks. Time only moves by pushed timestamps and tick() calls: no real timer anywhere.
 */
import { FakeClock } from '@ferry/test-kit/clock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AlarmTransition } from '../core/alarm-types.ts';
import type { RuleLimits } from '../core/limits.ts';
import { parseInstallation } from '../objects.ts';
import { RuleJob } from '../runtime/job.ts';

type Props = Record<string, unknown>;
const BASE: Props = { type: 'hot', severity: 'major', value: 'temp', source: 'device', condition: { op: '>', threshold: 30 } };

function alarmJob(props: Props, limits: Partial<RuleLimits> = {}): RuleJob {
  const { plan } = parseInstallation({
    headers: { runtime: 'cloud', targetResource: 'alarms', jobType: 'alarm' },
    jobConfig: { connectors: { input: 't/+', output: 'alarms/_/r1' }, jobProps: { ...BASE, ...props } },
  });
  const job = new RuleJob(plan, { clock: new FakeClock(0), jobId: 'r1', limits });
  job.start();
  return job;
}

const edges = (outputs: readonly { payload: unknown }[]): string[] =>
  outputs.map((o) => {
    const t = o.payload as AlarmTransition;
    return `${t.kind} ${t.source} @${t.atMs}`;
  });

describe('alarm operator', () => {
  it('emits edges only, per source, with the contract fields', () => {
    const job = alarmJob({});
    const out = [
      ...job.push('t/a', { device: 'd1', temp: 31 }, 1000),
      ...job.push('t/a', { device: 'd1', temp: 35 }, 2000), // still breaching: no second raise
      ...job.push('t/b', { device: 'd2', temp: 20 }, 2500),
      ...job.push('t/a', { device: 'd1', temp: 30 }, 3000),
      ...job.push('t/a', { device: 'd1', temp: 29 }, 4000),
    ];
    expect(out.map((o) => o.topic)).toEqual(['alarms/_/r1', 'alarms/_/r1']);
    expect(out.map((o) => o.payload)).toEqual([
      { kind: 'raise', type: 'hot', source: 'd1', severity: 'major', value: 31, atMs: 1000, rule: 'r1', reason: 'temp > 30' },
      { kind: 'clear', type: 'hot', source: 'd1', severity: 'major', value: 30, atMs: 3000, rule: 'r1', reason: 'temp > 30 no longer holds' },
    ]);
  });

  it('reset: a raised source forgets its breach, so the next breaching sample raises again after forMs; others keep theirs', () => {
    const job = alarmJob({ forMs: 1000 });
    expect(edges([...job.push('t/a', { device: 'd1', temp: 31 }, 0), ...job.push('t/a', { device: 'd2', temp: 31 }, 0), ...job.tick(1000)])).toEqual([
      'raise d1 @1000',
      'raise d2 @1000',
    ]);
    expect(job.resetSources((s) => s === 'd1')).toBe(1);
    expect(job.resetSources((s) => s === 'd1')).toBe(0); // no longer raised
    // Neither raised again by time alone nor cleared: the condition must be seen again.
    expect(edges([...job.tick(5000), ...job.push('t/a', { device: 'd1', temp: 20 }, 5000)])).toEqual([]);
    expect(edges([...job.push('t/a', { device: 'd1', temp: 33 }, 6000), ...job.tick(7000), ...job.push('t/a', { device: 'd2', temp: 20 }, 7000)])).toEqual([
      'raise d1 @7000',
      'clear d2 @7000',
    ]);
  });

  it('forMs: a held breach raises when time advances, without a new sample, at the moment forMs ran out', () => {
    const job = alarmJob({ forMs: 5000 });
    expect(job.push('t/a', { device: 'd1', temp: 40 }, 1000)).toEqual([]);
    expect(job.tick(5999)).toEqual([]);
    const raised = job.tick(9000);
    expect(raised.map((o) => o.payload)).toEqual([
      { kind: 'raise', type: 'hot', source: 'd1', severity: 'major', value: 40, atMs: 6000, rule: 'r1', reason: 'temp > 30 for 5000 ms' },
    ]);
    expect(job.tick(20_000)).toEqual([]);
  });

  it('forMs: a break in the breach restarts the streak', () => {
    const job = alarmJob({ forMs: 5000 });
    job.push('t/a', { device: 'd1', temp: 40 }, 0);
    job.push('t/a', { device: 'd1', temp: 10 }, 4000);
    job.push('t/a', { device: 'd1', temp: 40 }, 4500);
    expect(job.tick(9499)).toEqual([]);
    expect(edges(job.tick(9500))).toEqual(['raise d1 @9500']);
  });

  it('forMs: the same transitions however often the host ticks', () => {
    const samples: [number, number][] = [
      [0, 40],
      [3000, 41],
      [7000, 10],
      [8000, 50],
      [20_000, 50],
      [21_000, 0],
    ];
    const run = (tickEvery: number | null): string[] => {
      const job = alarmJob({ forMs: 5000 });
      const out: string[] = [];
      let last = 0;
      for (const [at, temp] of samples) {
        if (tickEvery !== null) for (let t = last + tickEvery; t < at; t += tickEvery) out.push(...edges(job.tick(t)));
        out.push(...edges(job.push('t/a', { device: 'd', temp }, at)));
        last = at;
      }
      out.push(...edges(job.tick(30_000)));
      return out;
    };
    expect(run(null)).toEqual(['raise d @5000', 'clear d @7000', 'raise d @13000', 'clear d @21000']);
    expect(run(1)).toEqual(run(null));
    expect(run(777)).toEqual(run(null));
  });

  it('a sample behind the job time whose streak already ran out raises at once', () => {
    const job = alarmJob({ forMs: 1000 });
    job.tick(10_000);
    expect(edges(job.push('t/a', { device: 'd', temp: 40 }, 5000))).toEqual(['raise d @6000']);
    // Older than the source's last sample: not a sample.
    expect(job.push('t/a', { device: 'd', temp: 1 }, 4000)).toEqual([]);
    expect(job.status().counters.drops.filtered).toBe(1);
  });

  it('a late sample after a fired deadline takes effect at the deadline, so transitions never go back in time', () => {
    const job = alarmJob({ forMs: 1000 });
    job.push('t/a', { device: 'd', temp: 40 }, 0);
    expect(edges(job.tick(5000))).toEqual(['raise d @1000']);
    expect(edges(job.push('t/a', { device: 'd', temp: 10 }, 500))).toEqual(['clear d @1000']);
  });

  it('M of N raises when at least m of the last n samples breach and clears below m', () => {
    const job = alarmJob({ mOfN: { m: 2, n: 3 } });
    const temps = [40, 10, 10, 40, 10, 40, 10, 10];
    const out = temps.flatMap((temp, i) => edges(job.push('t/a', { device: 'd', temp }, i)));
    // windows: [40] [40,10] [40,10,10] [10,10,40] [10,40,10] [40,10,40]=2 -> raise, [10,40,10] -> 1: clear
    expect(out).toEqual(['raise d @5', 'clear d @6']);
  });

  it('missing data, breaching: raises once after afterMs of silence, on time alone; a good sample clears', () => {
    const job = alarmJob({ missing: { afterMs: 3000, policy: 'breaching' } });
    job.push('t/a', { device: 'd', temp: 20 }, 1000);
    expect(job.tick(3999)).toEqual([]);
    const raised = job.tick(10_000);
    expect(raised.map((o) => o.payload)).toEqual([
      { kind: 'raise', type: 'hot', source: 'd', severity: 'major', atMs: 4000, rule: 'r1', reason: 'no data for 3000 ms' },
    ]);
    expect(job.tick(100_000)).toEqual([]);
    expect(edges(job.push('t/a', { device: 'd', temp: 20 }, 100_001))).toEqual(['clear d @100001']);
  });

  it('missing data, not-breaching: clears a raised source once its data stops', () => {
    const job = alarmJob({ missing: { afterMs: 3000, policy: 'not-breaching' } });
    expect(edges(job.push('t/a', { device: 'd', temp: 40 }, 0))).toEqual(['raise d @0']);
    const cleared = job.tick(5000);
    expect(cleared.map((o) => (o.payload as AlarmTransition).reason)).toEqual(['no data for 3000 ms (treated as not breaching)']);
    expect(edges(cleared)).toEqual(['clear d @3000']);
    expect(edges(job.push('t/a', { device: 'd', temp: 40 }, 6000))).toEqual(['raise d @6000']);
  });

  it('missing data, last: repeats the last sample, which completes M of N', () => {
    const job = alarmJob({ mOfN: { m: 3, n: 3 }, missing: { afterMs: 1000, policy: 'last' } });
    job.push('t/a', { device: 'd', temp: 40 }, 0);
    // Repetitions at 1000 and 2000 fill the ring with breaches.
    expect(edges(job.tick(1500))).toEqual([]);
    expect(edges(job.tick(60_000))).toEqual(['raise d @2000']);
  });

  it('missing data, ignore: silence changes nothing', () => {
    const job = alarmJob({ missing: { afterMs: 1000, policy: 'ignore' } });
    job.push('t/a', { device: 'd', temp: 40 }, 0);
    job.push('t/a', { device: 'e', temp: 10 }, 0);
    expect(job.tick(1_000_000)).toEqual([]);
  });

  it('a value of the wrong type, a missing value or a missing source is not a sample: it does not count as data', () => {
    const job = alarmJob({ missing: { afterMs: 1000, policy: 'breaching' } });
    job.push('t/a', { device: 'd', temp: 20 }, 0);
    expect(job.push('t/a', { device: 'd', temp: '99' }, 500)).toEqual([]);
    expect(job.push('t/a', { device: 'd' }, 600)).toEqual([]);
    expect(job.push('t/a', { temp: 99 }, 700)).toEqual([]);
    expect(job.push('t/a', 'not an object', 800)).toEqual([]);
    expect(job.push('t/a', { device: 'x'.repeat(257), temp: 99 }, 900)).toEqual([]);
    expect(job.status().counters.drops.filtered).toBe(5);
    expect(edges(job.tick(1000))).toEqual(['raise d @1000']);
  });

  it('== and != compare strings and booleans; sources come from a number field or the topic', () => {
    const eq = alarmJob({ condition: { op: '==', threshold: 'open' }, source: 'id' });
    expect(edges([...eq.push('t/a', { id: 7, temp: 'open' }, 1), ...eq.push('t/a', { id: 7, temp: 'closed' }, 2)])).toEqual(['raise 7 @1', 'clear 7 @2']);
    const byTopic = alarmJob({ condition: { op: 'outside', low: 0, high: 10 }, source: undefined });
    expect(byTopic.push(`t/${'x'.repeat(255)}`, { temp: 11 }, 0)).toEqual([]); // a name of 257 characters
    expect(edges([...byTopic.push('t/x', { temp: 11 }, 1), ...byTopic.push('t/y', { temp: 10 }, 2), ...byTopic.push('t/y', { temp: -1 }, 3)])).toEqual([
      'raise t/x @1',
      'raise t/y @3',
    ]);
  });

  it('past maxAlarmSources it evicts the least recently sampled source that is not raised', () => {
    const job = alarmJob({ forMs: 1000 }, { maxAlarmSources: 3 });
    job.push('t/a', { device: 'a', temp: 40 }, 0); // pending streak
    job.push('t/a', { device: 'b', temp: 40 }, 1);
    job.push('t/a', { device: 'c', temp: 10 }, 2);
    job.push('t/a', { device: 'a', temp: 41 }, 3); // a is now the most recent
    job.push('t/a', { device: 'd', temp: 40 }, 4); // evicts b
    const names = (job.snapshot().operator as { sources: { name: string }[] }).sources.map((s) => s.name);
    expect(names).toEqual(['c', 'a', 'd']);
    expect(edges(job.tick(5000))).toEqual(['raise a @1000', 'raise d @1004']);
  });

  it('stops with FERRY_RULES_LIMIT when every tracked source is raised', () => {
    const job = alarmJob({}, { maxAlarmSources: 2 });
    job.push('t/a', { device: 'a', temp: 40 }, 0);
    job.push('t/a', { device: 'b', temp: 40 }, 1);
    expect(job.push('t/a', { device: 'c', temp: 40 }, 2)).toEqual([]);
    expect(job.state).toBe('STOPPED');
    expect(job.status().failure?.message).toMatch(/maxAlarmSources/);
    expect((job.snapshot().operator as { sources: unknown[] }).sources).toHaveLength(2);
  });

  it('a restored job never re-raises a raised source and keeps a pending forMs', () => {
    const a = alarmJob({ forMs: 5000 });
    a.push('t/a', { device: 'up', temp: 40 }, 0);
    a.tick(5000); // raises "up"
    a.push('t/a', { device: 'pending', temp: 40 }, 4000);
    a.stop();
    const snapshot: unknown = JSON.parse(JSON.stringify(a.snapshot()));
    const fresh = new RuleJob(a.plan, { clock: new FakeClock(0), jobId: 'r1' });
    fresh.restore(snapshot);
    fresh.start();
    expect(edges(fresh.push('t/a', { device: 'up', temp: 45 }, 9500))).toEqual(['raise pending @9000']);
    expect(edges(fresh.push('t/a', { device: 'up', temp: 1 }, 10_000))).toEqual(['clear up @10000']);
  });

  it('refuses a snapshot whose sources are malformed, naming the field', () => {
    const job = alarmJob({ mOfN: { m: 1, n: 2 } });
    job.push('t/a', { device: 'd', temp: 40 }, 0);
    job.stop();
    const good = JSON.parse(JSON.stringify(job.snapshot())) as { operator: { sources: Record<string, unknown>[] } };
    const bad = (change: Record<string, unknown>) => {
      const copy = JSON.parse(JSON.stringify(good)) as typeof good;
      Object.assign(copy.operator.sources[0] ?? {}, change);
      const target = new RuleJob(job.plan, { clock: new FakeClock(0) });
      try {
        target.restore(copy);
      } catch (error) {
        return [(error as { code: string }).code, (error as { path: string }).path];
      }
      return null;
    };
    expect(bad({ bits: '0101' })).toEqual(['FERRY_RULES_SNAPSHOT_INVALID', 'snapshot.operator.sources[0].bits']);
    expect(bad({ value: 'warm' })).toEqual(['FERRY_RULES_SNAPSHOT_INVALID', 'snapshot.operator.sources[0].value']);
    expect(bad({ raised: 1 })).toEqual(['FERRY_RULES_SNAPSHOT_INVALID', 'snapshot.operator.sources[0].raised']);
    expect(bad({})).toBeNull();
  });
});

/** Samples for a few sources with non-decreasing time, some out of order, some not samples, and host ticks. */
type Step = { readonly tick: number } | { readonly device: string; readonly temp: unknown; readonly at: number };
const steps: fc.Arbitrary<Step[]> = fc
  .array(
    fc.oneof(
      {
        weight: 8,
        arbitrary: fc.record({
          device: fc.constantFrom('a', 'b', 'c'),
          temp: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 60 }) }, { weight: 1, arbitrary: fc.constant('n/a') }),
          dt: fc.integer({ min: 0, max: 2000 }),
          back: fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3000 }) }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ tickDt: fc.integer({ min: 0, max: 5000 }) }) },
    ),
    { maxLength: 60 },
  )
  .map((items) => {
    let now = 0;
    return items.map((item): Step => {
      if ('tickDt' in item) {
        now += item.tickDt;
        return { tick: now };
      }
      now += item.dt;
      return { device: item.device, temp: item.temp, at: Math.max(0, now - item.back) };
    });
  });

const run = (job: RuleJob, script: readonly Step[]) =>
  script.flatMap((step) => ('tick' in step ? job.tick(step.tick) : job.push('t/a', { device: step.device, temp: step.temp }, step.at)));

/** The naive model: every outcome of a source kept in a list; at least m of the last n breach -> raised. */
function reference(script: readonly Step[], m: number, n: number): string[] {
  const history = new Map<string, { lastMs: number; outcomes: boolean[]; raised: boolean }>();
  const out: string[] = [];
  for (const step of script) {
    if ('tick' in step || typeof step.temp !== 'number') continue;
    const h = history.get(step.device) ?? { lastMs: -1, outcomes: [], raised: false };
    history.set(step.device, h);
    if (step.at < h.lastMs) continue;
    h.lastMs = step.at;
    h.outcomes.push(step.temp > 30);
    const holds = h.outcomes.slice(-n).filter(Boolean).length >= m;
    if (holds !== h.raised) out.push(`${holds ? 'raise' : 'clear'} ${step.device} @${step.at}`);
    h.raised = holds;
  }
  return out;
}

describe('alarm operator properties', () => {
  it('m = n = 1, forMs = 0: raises and clears alternate per source and match the reference', () => {
    fc.assert(
      fc.property(steps, (script) => {
        const out = edges(run(alarmJob({ mOfN: { m: 1, n: 1 } }), script));
        expect(out).toEqual(reference(script, 1, 1));
        expect(edges(run(alarmJob({}), script))).toEqual(out);
        for (const device of ['a', 'b', 'c']) {
          const kinds = out.filter((e) => e.split(' ')[1] === device).map((e) => e.split(' ')[0]);
          expect(kinds).toEqual(kinds.map((_, i) => (i % 2 === 0 ? 'raise' : 'clear')));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('M of N matches the naive reference', () => {
    const mn = fc.integer({ min: 1, max: 6 }).chain((n) => fc.record({ n: fc.constant(n), m: fc.integer({ min: 1, max: n }) }));
    fc.assert(
      fc.property(steps, mn, (script, { m, n }) => {
        expect(edges(run(alarmJob({ mOfN: { m, n } }), script))).toEqual(reference(script, m, n));
      }),
      { numRuns: 300 },
    );
  });

  const props = fc.record(
    {
      forMs: fc.integer({ min: 0, max: 4000 }),
      mOfN: fc.integer({ min: 1, max: 4 }).chain((n) => fc.record({ n: fc.constant(n), m: fc.integer({ min: 1, max: n }) })),
      missing: fc.record({ afterMs: fc.integer({ min: 1, max: 4000 }), policy: fc.constantFrom('ignore', 'breaching', 'not-breaching', 'last') }),
    },
    { requiredKeys: [] },
  );

  it('moved (stop, snapshot, JSON, restore) at every step gives the transitions of one unmoved job', () => {
    fc.assert(
      fc.property(steps, props, (script, jobProps) => {
        const whole = run(alarmJob(jobProps), script);
        for (let split = 0; split <= script.length; split++) {
          const a = alarmJob(jobProps);
          const first = run(a, script.slice(0, split));
          a.stop();
          const b = new RuleJob(a.plan, { clock: new FakeClock(0), jobId: 'r1' });
          b.restore(JSON.parse(JSON.stringify(a.snapshot())));
          b.start();
          expect([...first, ...run(b, script.slice(split))]).toEqual(whole);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('per source, transitions alternate raise/clear and come in time order, whatever the props', () => {
    fc.assert(
      fc.property(steps, props, (script, jobProps) => {
        const out = run(alarmJob(jobProps), [...script, { tick: 1e9 }]).map((o) => o.payload as AlarmTransition);
        for (const device of ['a', 'b', 'c']) {
          const mine = out.filter((t) => t.source === device);
          expect(mine.map((t) => t.kind)).toEqual(mine.map((_, i) => (i % 2 === 0 ? 'raise' : 'clear')));
          expect(mine.map((t) => t.atMs)).toEqual(mine.map((t) => t.atMs).sort((x, y) => x - y));
        }
      }),
      { numRuns: 300 },
    );
  });
});
