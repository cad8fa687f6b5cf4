/**
 * Moving a running rule between two runtimes over the real REST API, under a steady stream that both
 * runtimes receive (as they would from the broker, the target lagging or leading): nothing lost, nothing
 * counted twice, compared with a job that never moved.
 */
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { RuleEngine } from '@ferry/rules';
import { RulesHost } from './host.ts';
import { rulesRoutes } from './routes.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function hostOn(runtime: string): Promise<{ host: RulesHost; url: string; outputs: unknown[] }> {
  const outputs: unknown[] = [];
  const host = new RulesHost({ runtime, publish: (_t, p) => outputs.push(p), now: () => 0 });
  const app = Fastify();
  rulesRoutes(app, host);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  cleanups.push(() => app.close());
  return { host, url, outputs };
}

const installation = (runtime: string, url: string) => ({
  headers: { runtime, targetResource: url, jobType: 'aggregation' },
  jobConfig: {
    connectors: { input: 'ferry/up/gw/+/+', output: 'ferry/agg/count' },
    jobProps: { function: 'sum', fieldName: 'v', window: { type: 'tumbling', size: 10, unit: 'count' } },
  },
});

describe('move under a steady stream', () => {
  for (const lag of [0, 7, -5]) {
    it(`gateway -> cloud with the target ${lag > 0 ? `lagging ${lag} inputs` : lag < 0 ? `ahead by ${-lag} inputs` : 'in step'}: outputs equal an unmoved job`, async () => {
      const gw = await hostOn('gateway:gw');
      const cloud = await hostOn('cloud');
      const inputs = Array.from({ length: 400 }, (_, i) => ({ topic: `ferry/up/gw/bthome/dev${i % 3}`, record: { v: i }, atMs: 1000 + i, id: `gw/1/${i}` }));
      const res = await fetch(`${gw.url}/api/install`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(installation('gateway:gw', gw.url)),
      });
      const { jobId } = (await res.json()) as { jobId: string };
      gw.host.engine.start(jobId);

      // Reference: the same job, never moved.
      const ref = new RuleEngine({ runtime: 'ref', clock: { now: () => 0 } });
      const refId = ref.install(installation('ref', 'x')).jobId;
      ref.start(refId);
      const expected = inputs.flatMap((x) => ref.push(x.topic, x.record, x.atMs, x.id).map((o) => o.payload));

      // Both hosts receive the stream; the cloud sees input i at step i + lag. Move at step 203.
      let moved = false;
      for (let step = 0; step < inputs.length + Math.abs(lag); step++) {
        const g = inputs[step];
        if (g !== undefined) gw.host.input(g.topic, g.record, g.atMs, g.id);
        const c = inputs[step - lag];
        if (c !== undefined) cloud.host.input(c.topic, c.record, c.atMs, c.id);
        if (step === 203 && !moved) {
          moved = true;
          const m = await fetch(`${gw.url}/api/move`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ jobId, target_runtime: 'cloud', targetResource: cloud.url }),
          });
          expect(m.status).toBe(200);
        }
      }
      expect(gw.host.engine.list()).toEqual([]);
      expect(cloud.host.engine.list().map((j) => j.jobStatus)).toEqual(['RUNNING']);
      expect([...gw.outputs, ...cloud.outputs]).toEqual(expected);
      const status = cloud.host.engine.status(cloud.host.engine.list()[0]!.jobId);
      // Every input consumed exactly once across the move; repeats seen by a lagging target are dropped as duplicates.
      expect(status.watermark.seq).toBe(inputs.length);
      expect(status.counters.drops).toMatchObject({ duplicate: Math.max(lag, 0) });
    });
  }

  it('a refused hand-over leaves the job running at the source with its state', async () => {
    const gw = await hostOn('gateway:gw');
    const { jobId } = gw.host.engine.install(installation('gateway:gw', gw.url));
    gw.host.engine.start(jobId);
    for (let i = 0; i < 5; i++) gw.host.input('ferry/up/gw/a/b', { v: i }, i, `id${i}`);
    const m = await fetch(`${gw.url}/api/move`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jobId, target_runtime: 'cloud', targetResource: 'http://127.0.0.1:1' }),
    });
    expect(m.status).toBe(502);
    expect(((await m.json()) as { code: string }).code).toBe('FERRY_API_MOVE_FAILED');
    expect(gw.host.engine.list().map((j) => [j.jobId, j.jobStatus])).toEqual([[jobId, 'RUNNING']]);
    expect(gw.host.engine.status(jobId).counters.in).toBe(5);
  });
});

describe('a failed move', () => {
  // Regression: the job restored after a refused hand-over kept the failed target as its targetResource.
  it('restores the job exactly as it was: same state, same targetResource, same counters', async () => {
    const gw = await hostOn('gateway:gw');
    const { jobId } = gw.host.engine.install(installation('gateway:gw', 'room-1'));
    gw.host.engine.start(jobId);
    gw.host.input('ferry/up/gw/bthome/dev0', { v: 1 }, 1000, 'gw/1/0');
    const before = gw.host.engine.status(jobId);
    // Nothing listens on port 1: the hand-over fails.
    await expect(gw.host.moveOut(jobId, 'cloud', 'http://127.0.0.1:1')).rejects.toThrow();
    const after = gw.host.engine.status(jobId);
    expect(after.targetResource).toBe('room-1');
    expect(after.jobInfo.jobStatus).toBe('RUNNING');
    expect(after.counters).toEqual(before.counters);
    expect(gw.host.engine.list().map((j) => j.jobId)).toEqual([jobId]);
  });
});
