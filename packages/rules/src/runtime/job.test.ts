/**
 * @module RuleJob: lifecycle, counters and drop reasons, error containment and failure, latency, snapshot validation.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '@ferry/test-kit/clock';
import { push, runSteps, sqlJob } from '@ferry/test-kit/rules';
import { RuleError } from '../core/errors.ts';
import { compileSql } from '../sql/compile.ts';
import { RuleJob } from './job.ts';
import type { JobSnapshot } from './snapshot.ts';

const FILTER = 'SELECT * FROM s/+ WHERE v > 10';

function errorOf(run: () => unknown): RuleError {
  try {
    run();
  } catch (error) {
    if (error instanceof RuleError) return error;
    throw error;
  }
  throw new Error('expected a RuleError');
}

/** The member at `path` in a parsed JSON document; undefined where the path leaves the document. */
function at(doc: unknown, ...path: (string | number)[]): unknown {
  return path.reduce<unknown>((node, key) => (typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined), doc);
}

/** The object (or array) at `path`, so a test can overwrite one of its members. */
function objectAt(doc: unknown, ...path: (string | number)[]): Record<string, unknown> {
  const node = at(doc, ...path);
  if (typeof node !== 'object' || node === null) throw new Error(`no object at ${path.join('.')}`);
  return node as Record<string, unknown>;
}

/** The array at `path`, so a test can append to it. */
function arrayAt(doc: unknown, ...path: (string | number)[]): unknown[] {
  const node = at(doc, ...path);
  if (!Array.isArray(node)) throw new Error(`no array at ${path.join('.')}`);
  return node;
}

describe('lifecycle', () => {
  it('processes only while RUNNING; other pushes count as inactive drops', () => {
    const job = new RuleJob(compileSql(FILTER, 'out'), { clock: new FakeClock(0) });
    expect(job.push('s/1', { v: 20 }, 1)).toEqual([]);
    expect(job.tick(5)).toEqual([]);
    job.start();
    expect(job.push('s/1', { v: 20 }, 2)).toHaveLength(1);
    job.stop();
    expect(job.push('s/1', { v: 20 }, 3)).toEqual([]);
    expect(job.status().counters).toMatchObject({ in: 3, out: 1, dropped: 2, drops: { inactive: 2 } });
    expect(job.status().watermark).toMatchObject({ seq: 1, timeMs: 2 });
    expect(errorOf(() => job.stop()).code).toBe('FERRY_RULES_INVALID_TRANSITION');
    job.uninstall();
    expect(errorOf(() => job.start()).code).toBe('FERRY_RULES_INVALID_TRANSITION');
    expect(errorOf(() => job.snapshot()).code).toBe('FERRY_RULES_INVALID_TRANSITION');
  });
});

describe('counters', () => {
  it('splits drops by reason and keeps dropped as their sum', () => {
    const job = sqlJob(FILTER);
    runSteps(job, [push('s/1', { v: 20 }, 1, 'a'), push('s/1', { v: 20 }, 1, 'a'), push('other', { v: 20 }, 2, 'b'), push('s/2', { v: 5 }, 3, 'c')]);
    const { counters, watermark } = job.status();
    expect(counters).toEqual({
      in: 4,
      out: 1,
      dropped: 3,
      errors: 0,
      lastLatencyMs: -1,
      drops: { filtered: 1, late: 0, duplicate: 1, inactive: 0, unrouted: 1 },
    });
    expect(watermark).toEqual({ timeMs: 3, seq: 3, lastInputId: 'c', lastInputTimestampMs: 3 });
  });

  it('measures latency on the injected clock against the result event time', () => {
    const clock = new FakeClock(1000);
    const job = sqlJob('SELECT count(*) AS n FROM s TUMBLING 100ms', { clock });
    job.push('s', {}, 10);
    clock.set(1250);
    job.tick(200);
    expect(job.status().counters.lastLatencyMs).toBe(1150); // now 1250 - window end 100
  });

  it('remembers only the last dedupeWindow ids', () => {
    const job = sqlJob(FILTER, { dedupeWindow: 2 });
    runSteps(
      job,
      ['a', 'b', 'c', 'a', 'c'].map((id, i) => push('s/1', { v: 20 }, i, id)),
    );
    expect(job.status().counters).toMatchObject({ out: 4, drops: { duplicate: 1 } });
    const none = sqlJob(FILTER, { dedupeWindow: 0 });
    runSteps(
      none,
      ['a', 'a'].map((id) => push('s/1', { v: 20 }, 0, id)),
    );
    expect(none.status().counters.out).toBe(2);
  });
});

describe('errors never escape push', () => {
  it('counts evaluation errors and stops the job past the limit of consecutive errors', () => {
    const clock = new FakeClock(77);
    const job = sqlJob(FILTER, { errorLimit: 2, clock, jobId: 'edge-3' });
    runSteps(job, [push('s/1', {}, 1), push('s/1', { v: 'x' }, 2), push('s/1', { v: 11 }, 3), push('s/1', {}, 4), push('s/1', {}, 5)]);
    expect(job.state).toBe('RUNNING'); // the success in between reset the streak
    expect(job.push('s/1', {}, 6)).toEqual([]);
    expect(job.state).toBe('STOPPED');
    const status = job.status();
    expect(status.counters.errors).toBe(5);
    expect(status.failure).toMatchObject({ code: 'FERRY_RULES_JOB_FAILED', numeric: 3205, atMs: 77 });
    expect(status.failure?.message).toContain('edge-3 stopped after 3 consecutive errors; last: FERRY_RULES_EVAL_FIELD_MISSING');
    expect(status.lastError).toMatchObject({ code: 'FERRY_RULES_EVAL_FIELD_MISSING' });
    job.start(); // a restart clears the failure and the streak
    expect(job.status()).toMatchObject({ failure: null, consecutiveErrors: 0 });
  });

  it('contains odd inputs: bad timestamps, throwing getters, undefined records', () => {
    const job = sqlJob(FILTER);
    const hostile = Object.defineProperty({}, 'v', {
      enumerable: true,
      get() {
        throw new Error('getter exploded');
      },
    });
    expect(() => runSteps(job, [push('s/1', { v: 20 }, Number.NaN), push('s/1', hostile, 1), push('s/1', undefined, 2)])).not.toThrow();
    expect(job.status().counters.errors).toBe(3);
    expect(job.status().lastError?.code).toBe('FERRY_RULES_EVAL_FIELD_MISSING');
    expect(job.status().watermark.seq).toBe(2); // the NaN timestamp was never consumed
    const unexpected = sqlJob(FILTER);
    unexpected.push('s/1', hostile, 1);
    expect(unexpected.status().lastError).toMatchObject({ code: 'FERRY_RULES_EVAL_UNEXPECTED', message: 'getter exploded' });
  });

  it('refuses timestamps outside the ECMAScript time range (window arithmetic must stay exact)', () => {
    const job = sqlJob('SELECT count(*) AS n FROM s SLIDING 10s 1s');
    expect(job.push('s', {}, 1e300)).toEqual([]);
    expect(job.tick(1e300)).toEqual([]);
    expect(job.status().lastError?.code).toBe('FERRY_RULES_EVAL_INPUT');
    expect(job.status().watermark.timeMs).toBeNull();
    expect(job.push('s', {}, -8.64e15)).toEqual([]);
    expect(job.status().counters.errors).toBe(1);
  });

  it('rejects bad options up front', () => {
    const plan = compileSql(FILTER, 'out');
    expect(errorOf(() => new RuleJob(plan, { clock: new FakeClock(0), errorLimit: -1 })).path).toBe('errorLimit');
    expect(errorOf(() => new RuleJob(plan, { clock: new FakeClock(0), dedupeWindow: 1.5 })).path).toBe('dedupeWindow');
  });
});

describe('snapshot and restore', () => {
  const AGG = 'SELECT room, avg(v) AS a FROM s/+ SLIDING 100ms 50ms GROUP BY room';

  function snapshotAfterSomeInput(): JobSnapshot {
    const job = sqlJob(AGG);
    runSteps(job, [push('s/1', { room: 'x', v: 1 }, 10, 'i1'), push('s/1', { room: 'y', v: 3 }, 60, 'i2')]);
    job.stop();
    return job.snapshot();
  }

  it('is plain JSON', () => {
    const snapshot = snapshotAfterSomeInput();
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
    expect(snapshot).toMatchObject({ format: 'ferry.rules.snapshot/1', state: 'STOPPED', recentIds: ['i1', 'i2'], watermark: { seq: 2, lastInputId: 'i2' } });
  });

  it('restores only into a fresh job of the same plan', () => {
    const snapshot = snapshotAfterSomeInput();
    const running = sqlJob(AGG);
    expect(errorOf(() => running.restore(snapshot)).code).toBe('FERRY_RULES_INVALID_TRANSITION');
    const other = new RuleJob(compileSql('SELECT room, avg(v) AS b FROM s/+ SLIDING 100ms 50ms GROUP BY room', 'out'), { clock: new FakeClock(0) });
    expect(errorOf(() => other.restore(snapshot))).toMatchObject({ code: 'FERRY_RULES_SNAPSHOT_MISMATCH', path: 'snapshot.plan' });
  });

  it.each<[string, (snapshot: Record<string, unknown>) => void, string]>([
    [
      'format',
      (s) => {
        s['format'] = 'ferry.rules.snapshot/0';
      },
      'snapshot.format',
    ],
    [
      'negative counter',
      (s) => {
        objectAt(s, 'counters')['in'] = -1;
      },
      'snapshot.counters.in',
    ],
    [
      'inconsistent drops',
      (s) => {
        objectAt(s, 'counters')['dropped'] = 5;
      },
      'snapshot.counters.dropped',
    ],
    [
      'repeated id',
      (s) => {
        arrayAt(s, 'recentIds').push('i1');
      },
      'snapshot.recentIds',
    ],
    [
      'unknown field',
      (s) => {
        s['extra'] = 1;
      },
      'snapshot.extra',
    ],
    [
      'window start off the slide grid',
      (s) => {
        objectAt(s, 'operator', 'windows', 0)['start'] = 7;
      },
      'snapshot.operator.windows[0].start',
    ],
    [
      'accumulator count',
      (s) => {
        arrayAt(s, 'operator', 'windows', 0, 'groups', 0, 'accs').push([1, 1]);
      },
      'snapshot.operator.windows[0].groups[0].accs',
    ],
    [
      'operator kind',
      (s) => {
        objectAt(s, 'operator')['kind'] = 'join';
      },
      'snapshot.operator.kind',
    ],
    [
      'time beyond the time range',
      (s) => {
        objectAt(s, 'watermark')['timeMs'] = 1e300;
      },
      'snapshot.watermark.timeMs',
    ],
    [
      'error info',
      (s) => {
        s['lastError'] = { code: 'FERRY_RULES_NOPE', numeric: 3999, message: '', atMs: 0 };
      },
      'snapshot.lastError.code',
    ],
  ])('rejects a snapshot with a bad %s, naming the path, and leaves the job untouched', (_name, corrupt, path) => {
    const snapshot = JSON.parse(JSON.stringify(snapshotAfterSomeInput())) as Record<string, unknown>;
    corrupt(snapshot);
    const job = new RuleJob(compileSql(AGG, 'out'), { clock: new FakeClock(0) });
    const before = job.status();
    expect(errorOf(() => job.restore(snapshot))).toMatchObject({ code: 'FERRY_RULES_SNAPSHOT_INVALID', num: 3301, path });
    expect(job.status()).toEqual(before);
  });

  it('rejects values that are not JSON at all', () => {
    const job = new RuleJob(compileSql(AGG, 'out'), { clock: new FakeClock(0) });
    expect(errorOf(() => job.restore({ big: 1n })).code).toBe('FERRY_RULES_SNAPSHOT_INVALID');
    expect(errorOf(() => job.restore(undefined)).code).toBe('FERRY_RULES_SNAPSHOT_INVALID');
  });

  it('status and snapshot are copies', () => {
    const job = sqlJob(FILTER);
    job.status().counters.in = 99;
    job.snapshot().counters.out = 99;
    expect(job.status().counters).toMatchObject({ in: 0, out: 0 });
  });
});
