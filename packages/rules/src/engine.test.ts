/**
 * @module RuleEngine: the REST-shaped operations, fan-out, failure reporting, and moving jobs between two engines.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '@ferry/test-kit/clock';
import { RuleEngine } from './engine.ts';
import { RuleError } from './core/errors.ts';
import type { InstallationObject } from './objects.ts';
import type { OutputRecord } from './runtime/job.ts';

const clock = new FakeClock(0);

function installation(
  runtime: string,
  jobType: string,
  jobProps: Record<string, unknown>,
  input: string | string[] = 'sensors/+/temp',
  output = 'alerts/temp',
): InstallationObject {
  return { headers: { runtime, targetResource: 'room-1', jobType }, jobConfig: { connectors: { input, output }, jobProps } };
}

const AVG = { function: 'avg', fieldName: 'temp', groupBy: 'room', window: { type: 'tumbling', size: 1000, unit: 'ms' } };

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

describe('install / start / stop / uninstall / list / status', () => {
  it('walks a job through its lifecycle', () => {
    const engine = new RuleEngine({ runtime: 'edge', clock });
    const info = engine.install(installation('edge', 'single-filter', { condition: 'gt', threshold: 30, fieldName: 'temp' }));
    expect(info).toEqual({ runtime: 'edge', jobId: 'edge-1', jobType: 'single-filter', jobStatus: 'INSTALLED', configFileName: 'edge-1.json' });
    expect(engine.start('edge-1').jobStatus).toBe('RUNNING');
    expect(engine.push('sensors/a/temp', { temp: 31 }, 10)).toEqual([{ topic: 'alerts/temp', payload: { temp: 31 } }]);
    expect(engine.status('edge-1')).toMatchObject({ jobInfo: { jobStatus: 'RUNNING' }, targetResource: 'room-1', counters: { in: 1, out: 1 } });
    expect(errorOf(() => engine.uninstall('edge-1')).code).toBe('FERRY_RULES_INVALID_TRANSITION');
    expect(engine.stop('edge-1').jobStatus).toBe('STOPPED');
    expect(engine.uninstall('edge-1').jobStatus).toBe('UNINSTALLED');
    expect(engine.list()).toEqual([]);
    expect(errorOf(() => engine.status('edge-1'))).toMatchObject({ code: 'FERRY_RULES_JOB_NOT_FOUND', num: 3202 });
  });

  it('numbers jobs per runtime and lists them in install order', () => {
    const engine = new RuleEngine({ runtime: 'edge', clock });
    engine.install(installation('edge', 'aggregation', AVG));
    engine.install(installation('edge', 'sql', { query: 'SELECT * FROM sensors/+/temp' }));
    expect(engine.list().map((info) => [info.jobId, info.jobType])).toEqual([
      ['edge-1', 'aggregation'],
      ['edge-2', 'sql'],
    ]);
    expect(engine.installation('edge-1').jobConfig.jobProps).toEqual(AVG);
  });

  it('refuses objects addressed elsewhere or invalid, installing nothing', () => {
    const engine = new RuleEngine({ runtime: 'edge', clock });
    expect(errorOf(() => engine.install(installation('cloud', 'aggregation', AVG)))).toMatchObject({
      code: 'FERRY_RULES_WRONG_RUNTIME',
      path: 'headers.runtime',
    });
    expect(errorOf(() => engine.install(installation('edge', 'aggregation', { ...AVG, function: 'median' })))).toMatchObject({
      path: 'jobConfig.jobProps.function',
    });
    expect(engine.list()).toEqual([]);
  });

  it('uses a custom job id generator and refuses duplicates', () => {
    const engine = new RuleEngine({ runtime: 'edge', clock, newJobId: () => 'fixed' });
    engine.install(installation('edge', 'aggregation', AVG));
    expect(errorOf(() => engine.install(installation('edge', 'aggregation', AVG))).code).toBe('FERRY_RULES_JOB_EXISTS');
  });
});

describe('inputs', () => {
  it('fans out only to jobs subscribed to the topic; ticks reach every job', () => {
    const engine = new RuleEngine({ runtime: 'edge', clock });
    engine.install(installation('edge', 'aggregation', AVG));
    engine.install(installation('edge', 'single-filter', { condition: 'eq', threshold: 'open', fieldName: 'door' }, 'doors/+', 'alerts/door'));
    engine.start('edge-1');
    engine.start('edge-2');
    expect(engine.push('doors/front', { door: 'open' }, 5)).toEqual([{ topic: 'alerts/door', payload: { door: 'open' } }]);
    engine.push('sensors/a/temp', { temp: 20, room: 'a' }, 10);
    expect(engine.tick(1000)).toEqual([{ topic: 'alerts/temp', payload: { room: 'a', avg: 20, windowStart: 0, windowEnd: 1000 } }]);
    expect(engine.status('edge-1').counters.drops.unrouted).toBe(0);
    expect(engine.status('edge-2').counters.in).toBe(1);
  });

  it('composes pipelines through topics when the host feeds outputs back', () => {
    const engine = new RuleEngine({ runtime: 'edge', clock });
    engine.install(installation('edge', 'aggregation', AVG, 'sensors/+/temp', 'rooms/avg'));
    engine.install(installation('edge', 'single-filter', { condition: 'gt', threshold: 25, fieldName: 'avg' }, 'rooms/avg', 'alerts/hot'));
    engine.start('edge-1');
    engine.start('edge-2');
    const broker = (outputs: OutputRecord[], ts: number): OutputRecord[] =>
      outputs.flatMap((out) => [out, ...broker(engine.push(out.topic, out.payload, ts), ts)]);
    engine.push('sensors/a/temp', { temp: 30, room: 'a' }, 1);
    engine.push('sensors/b/temp', { temp: 20, room: 'b' }, 2);
    const all = broker(engine.tick(1000), 1000);
    expect(all.filter((out) => out.topic === 'alerts/hot').map((out) => out.payload)).toEqual([{ room: 'a', avg: 30, windowStart: 0, windowEnd: 1000 }]);
  });

  it('reports a job that stopped itself', () => {
    const engine = new RuleEngine({ runtime: 'edge', clock, errorLimit: 0 });
    engine.install(installation('edge', 'aggregation', AVG));
    engine.start('edge-1');
    engine.push('sensors/a/temp', { temp: 'hot', room: 'a' }, 1);
    expect(engine.list()[0]?.jobStatus).toBe('STOPPED');
    expect(engine.status('edge-1').failure?.code).toBe('FERRY_RULES_JOB_FAILED');
  });
});

describe('moving jobs between runtimes', () => {
  const readings = Array.from({ length: 40 }, (_, i) => ({
    topic: `sensors/${i % 3}/temp`,
    record: { temp: (i * 7) % 31, room: `r${i % 2}` },
    ts: i * 100,
    id: `m-${i}`,
  }));

  function feed(engine: RuleEngine, items: typeof readings): OutputRecord[] {
    return items.flatMap((item) => [...engine.tick(item.ts), ...engine.push(item.topic, item.record, item.ts, item.id)]);
  }

  it('edge -> cloud mid-stream produces what an unmoved job produces', () => {
    const reference = new RuleEngine({ runtime: 'edge', clock });
    reference.install(installation('edge', 'aggregation', AVG));
    reference.start('edge-1');
    const expected = feed(reference, readings);

    for (const split of [0, 1, 13, 25, 40]) {
      const edge = new RuleEngine({ runtime: 'edge', clock });
      const cloud = new RuleEngine({ runtime: 'cloud', clock });
      edge.install(installation('edge', 'aggregation', AVG));
      edge.start('edge-1');
      const first = feed(edge, readings.slice(0, split));
      const relocation = JSON.parse(JSON.stringify(edge.moveOut('edge-1', 'cloud', 'room-1')));
      expect(edge.list()).toEqual([]);
      expect(relocation).toMatchObject({
        target_runtime: 'cloud',
        targetResource: 'room-1',
        jobInfo: { jobId: 'edge-1', jobStatus: 'RUNNING', runtime: 'edge' },
      });
      expect(cloud.moveIn(relocation)).toEqual({
        runtime: 'cloud',
        jobId: 'edge-1',
        jobType: 'aggregation',
        jobStatus: 'RUNNING',
        configFileName: 'edge-1.json',
      });
      expect(cloud.installation('edge-1').headers.runtime).toBe('cloud');
      const second = feed(cloud, readings.slice(Math.max(0, split - 3))); // 3 redelivered inputs
      expect([...first, ...second]).toEqual(expected);
      expect(cloud.status('edge-1').counters.out).toBe(reference.status('edge-1').counters.out);
    }
  });

  it('starts a moved job only if it was running, and can move it back', () => {
    const edge = new RuleEngine({ runtime: 'edge', clock });
    const cloud = new RuleEngine({ runtime: 'cloud', clock });
    edge.install(installation('edge', 'aggregation', AVG));
    expect(cloud.moveIn(edge.moveOut('edge-1', 'cloud')).jobStatus).toBe('INSTALLED');
    cloud.start('edge-1');
    cloud.stop('edge-1');
    const back = cloud.moveOut('edge-1', 'edge');
    // Not running when moved: it arrives INSTALLED (install + restore), its counters intact.
    expect(edge.moveIn(back)).toMatchObject({ runtime: 'edge', jobId: 'edge-1', jobStatus: 'INSTALLED' });
    // A new install on edge does not collide with the returned job.
    expect(edge.install(installation('edge', 'aggregation', AVG)).jobId).toBe('edge-2');
  });

  it('move-in is all or nothing', () => {
    const edge = new RuleEngine({ runtime: 'edge', clock });
    edge.install(installation('edge', 'aggregation', AVG));
    edge.start('edge-1');
    edge.push('sensors/a/temp', { temp: 1, room: 'a' }, 1);
    const relocation = JSON.parse(JSON.stringify(edge.moveOut('edge-1', 'cloud'))) as Record<string, unknown>;
    const cloud = new RuleEngine({ runtime: 'cloud', clock });
    const fog = new RuleEngine({ runtime: 'fog', clock });

    expect(errorOf(() => fog.moveIn(relocation))).toMatchObject({ code: 'FERRY_RULES_WRONG_RUNTIME', path: 'target_runtime' });
    const corrupt = structuredClone(relocation);
    objectAt(corrupt, 'snapshot', 'operator', 'windows', 0, 'groups', 0)['accs'] = 'x';
    expect(errorOf(() => cloud.moveIn(corrupt))).toMatchObject({ code: 'FERRY_RULES_SNAPSHOT_INVALID', path: 'snapshot.operator.windows[0].groups[0].accs' });
    const otherPlan = structuredClone(relocation);
    objectAt(otherPlan, 'installation', 'jobConfig', 'jobProps')['fieldName'] = 'humidity';
    expect(errorOf(() => cloud.moveIn(otherPlan)).code).toBe('FERRY_RULES_SNAPSHOT_MISMATCH');
    const { installation: _dropped, ...withoutInstallation } = relocation;
    expect(errorOf(() => cloud.moveIn(withoutInstallation))).toMatchObject({ code: 'FERRY_RULES_FIELD_REQUIRED', path: 'installation' });
    expect(errorOf(() => cloud.moveIn({ ...relocation, jobInfo: { ...objectAt(relocation, 'jobInfo'), jobType: 'join' } })).path).toBe('jobInfo.jobType');
    expect(cloud.list()).toEqual([]);

    cloud.moveIn(relocation);
    expect(errorOf(() => cloud.moveIn(relocation))).toMatchObject({ code: 'FERRY_RULES_JOB_EXISTS', path: 'jobInfo.jobId' });
    expect(cloud.status('edge-1').counters.in).toBe(1);
  });
});
