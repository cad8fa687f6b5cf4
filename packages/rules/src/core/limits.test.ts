/**
 * @module Resource caps and feedback loops: a rule is untrusted input, so what it can cost is bounded and a
 * rule that would feed itself is refused. Each case here reproduces a rule that used to take a host down.
 */
import { FakeClock } from '@ferry/test-kit/clock';
import { sqlJob } from '@ferry/test-kit/rules';
import { describe, expect, it } from 'vitest';
import { RuleEngine } from '../engine.ts';
import { RULE_LIMITS } from './limits.ts';

const install = (
  input: string,
  output: string,
  jobType = 'single-filter',
  jobProps: Record<string, unknown> = { condition: 'gt', threshold: 0, fieldName: 'v' },
) => ({
  headers: { runtime: 'edge', targetResource: 'r', jobType },
  jobConfig: { connectors: { input, output }, jobProps },
});

describe('resource caps', () => {
  // Regression: a self-join on one key produced 9,000,000 outputs from 3,000 records (n² pairs).
  it('a self-join on a constant key stops at maxOutputsPerInput instead of emitting n² records', () => {
    const job = sqlJob('SELECT a.n AS l, b.n AS r FROM s/x AS a JOIN s/x AS b ON a.k = b.k WITHIN 1h');
    let outputs = 0;
    for (let i = 0; i < 3000 && job.state === 'RUNNING'; i++) outputs += job.push('s/x', { k: 1, n: i }, i).length;
    expect(job.state).toBe('STOPPED');
    expect(job.status().failure?.code).toBe('FERRY_RULES_LIMIT');
    expect(job.status().failure?.message).toMatch(/maxOutputsPerInput/);
    // Every input before the cap emitted 2i+1 pairs; the sum stays near maxOutputsPerInput² / 4, not 9e6.
    expect(outputs).toBeLessThan(RULE_LIMITS.maxOutputsPerInput ** 2);
  });

  it('a join side holds at most maxJoinBuffer records', () => {
    const job = sqlJob('SELECT * FROM s/a AS a JOIN s/b AS b ON a.k = b.k WITHIN 1h', { limits: { maxJoinBuffer: 50 } });
    for (let i = 0; i < 60; i++) job.push('s/a', { k: i }, i);
    expect(job.status().failure?.message).toMatch(/maxJoinBuffer/);
    expect((job.snapshot().operator as { left: unknown[] }).left).toHaveLength(50);
  });

  // Regression: a sliding window grouped by a high-cardinality field took 141 s of CPU for 2,000 keys (linear
  // scans per record and window); groups are now found by key and capped per window.
  it('a time window grouped by a high-cardinality field stops at maxGroups, leaving its state as it was', () => {
    const job = sqlJob('SELECT k, count(*) AS n FROM s/t SLIDING 1000ms 100ms GROUP BY k', { limits: { maxGroups: 100 } });
    for (let i = 0; i < 100; i++) job.push('s/t', { k: `key-${i}` }, 0);
    expect(job.state).toBe('RUNNING');
    const before = job.snapshot().operator;
    job.push('s/t', { k: 'one-too-many' }, 0);
    expect(job.status().failure?.code).toBe('FERRY_RULES_LIMIT');
    expect(job.snapshot().operator).toEqual(before);
  });

  it('a count window grouped by a high-cardinality field stops at maxGroups', () => {
    const job = sqlJob('SELECT k, sum(v) AS s FROM s/t COUNT 5 GROUP BY k', { limits: { maxGroups: 10 } });
    for (let i = 0; i < 11; i++) job.push('s/t', { k: i, v: 1 }, i);
    expect(job.status().failure?.message).toMatch(/maxGroups/);
  });

  it('2,000 keys in a sliding window with 10 windows per record stay correct', () => {
    const job = sqlJob('SELECT k, count(*) AS n FROM s/t SLIDING 1000ms 100ms GROUP BY k');
    for (let r = 0; r < 5; r++) for (let i = 0; i < 2000; i++) job.push('s/t', { k: i }, r * 10);
    const closed = job.tick(10_000).map((o) => o.payload as { k: number; n: number });
    expect(closed.length).toBe(10 * 2000);
    expect(closed.every((p) => p.n === 5)).toBe(true);
  });

  it('an engine holds at most maxJobs jobs', () => {
    const engine = new RuleEngine({ runtime: 'edge', clock: new FakeClock(0), limits: { maxJobs: 2 } });
    engine.install(install('a/1', 'o/1'));
    engine.install(install('a/2', 'o/2'));
    expect(() => engine.install(install('a/3', 'o/3'))).toThrow(expect.objectContaining({ code: 'FERRY_RULES_TOO_MANY_JOBS' }));
  });
});

describe('feedback loops are refused at install', () => {
  // Regression: a rule whose output matched its own input turned one reading into 2,125 signed outbox rows.
  it('refuses a rule whose output topic matches its own input filter, naming the field', () => {
    const engine = new RuleEngine({ runtime: 'edge', clock: new FakeClock(0) });
    expect(() => engine.install(install('sensors/#', 'sensors/alerts'))).toThrow(
      expect.objectContaining({ code: 'FERRY_RULES_FEEDS_ITSELF', path: 'jobConfig.connectors.output' }),
    );
    expect(engine.list()).toEqual([]);
  });

  it('refuses the rule that closes a loop through other jobs, and says which', () => {
    const engine = new RuleEngine({ runtime: 'edge', clock: new FakeClock(0), newJobId: (i) => i.jobConfig.connectors.output.replace('/', '-') });
    engine.install(install('a/in', 'b/in'));
    engine.install(install('b/+', 'c/in'));
    expect(() => engine.install(install('c/in', 'a/in'))).toThrow(
      expect.objectContaining({ code: 'FERRY_RULES_FEEDS_ITSELF', message: expect.stringMatching(/b-in -> c-in/) }),
    );
    expect(() => engine.install(install('c/in', 'd/out'))).not.toThrow(); // a chain, not a loop
  });
});
