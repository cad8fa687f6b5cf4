import Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { composeFlows } from './flows.ts';
import { SENSOR_SO, su, TestHosting } from './test-host.case.ts';

describe('composeFlows', () => {
  it("starts the flows over one host: a worker's input is stored, published out, and counted on /metrics", async () => {
    const host = new TestHosting();
    await host.create('alice', 'so-a', SENSOR_SO);
    const published: [string, string][] = [];
    const registry = new Registry();
    const flows = composeFlows({
      hosting: host,
      prefix: 'ferry',
      db: new Database(':memory:'),
      ownerOf: () => undefined,
      publish: (t, p) => published.push([t, p]),
      registry,
    });
    const worker = { kind: 'worker', id: 'w' } as const;
    expect(await flows.mqtt.take(worker, 'ferry/so/so-a/s/in', JSON.stringify(su(4, 40)))).toBe('drop');
    expect(await flows.mqtt.take(worker, 'ferry/so/so-a/s/in', '[]')).toBe('drop');
    await flows.stop();
    expect(published).toEqual([['ferry/so/so-a/s', JSON.stringify({ channels: { v: { 'current-value': 4 } }, lastUpdate: 40, id: 'src:40' })]]);
    const text = await registry.metrics();
    expect(text).toContain('ferry_cloud_so_flow_total{flow="mqtt",outcome="accepted"} 1');
    expect(text).toContain('ferry_cloud_so_flow_total{flow="mqtt",outcome="refused"} 1');
    expect(text).toContain('ferry_cloud_so_flow_total{flow="mqtt",outcome="published"} 1');
    // Stopped: nothing more goes out.
    await host.push({ owner: 'alice' }, 'so-a', 's', su(5, 50));
    expect(published).toHaveLength(1);
  });

  it("holds an owner's inputs back past its rate instead of refusing them (the PUBACK waits)", async () => {
    const host = new TestHosting();
    await host.create('alice', 'so-a', SENSOR_SO);
    const flows = composeFlows({
      hosting: host,
      prefix: 'ferry',
      db: new Database(':memory:'),
      ownerOf: (id) => (id === 'd1' ? 'alice' : undefined),
      publish: () => undefined,
      mqttInputRate: { perSecond: 100, burst: 1 },
    });
    const d1 = { kind: 'device', id: 'd1', namespace: 'home' } as const;
    await Promise.all([1, 2, 3].map((i) => flows.mqtt.take(d1, 'ferry/so/so-a/s/in', JSON.stringify(su(i, i)))));
    expect(flows.mqtt.counters).toMatchObject({ accepted: 3, refused: 0 });
    expect(flows.mqtt.counters.paced).toBeGreaterThanOrEqual(1);
    expect(host.store.range('so-a/s', 0, 10).map((v) => v.lastUpdate)).toEqual([1, 2, 3]);
    await flows.stop();
  });
});
