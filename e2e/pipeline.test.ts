/**
 * Gateway and cloud together on one broker (the cloud's embedded aedes): a two-stage rule pipeline
 * composed through topics (edge filter on the gateway -> aggregation in the cloud), the cloud reaching the
 * gateway's rule API through the MQTT control channel (as behind NAT), and a cloud job moved to the gateway
 * that way.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestCloud } from '../cloud/src/service/test-cloud.case.ts';
import { GatewayDaemon, parseConfig } from '@ferry/gateway';
import { mosquittoAvailable, mosquittoBroker } from '@ferry/test-kit/brokers';
import { workerLogin } from '@ferry/test-kit/mqtt-login';
import { ScriptedSource } from '@ferry/test-kit/sources';
import { bearer, getAs } from '@ferry/test-kit/http';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const until = async (cond: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};
const json = async (res: Response): Promise<unknown> => res.json();
const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer() }, body: JSON.stringify(body) });

type Mode = 'embedded' | 'mosquitto';

async function system(mode: Mode) {
  let external: string | undefined;
  if (mode === 'mosquitto') {
    const b = await mosquittoBroker();
    cleanups.push(() => b.stop());
    external = b.url;
  }
  const c = await startTestCloud({ name: 'e2e-cloud', ...(external !== undefined && { mqttUrl: external, shared: true }) });
  cleanups.push(c.stop);
  const { svc: cloud, mqttUrl, httpUrl } = c;
  const { key } = (await json(await post(`${httpUrl}/api/devices`, { id: 'gw-e2e', kind: 'gateway' }))) as { key: string };
  const cfg = parseConfig({
    gateway: { id: 'gw-e2e', key, data_dir: mkdtempSync(join(tmpdir(), 'ferry-e2e-gw-')) },
    uplink: { url: mqttUrl },
    api: { port: 0 },
  });
  const source = new ScriptedSource();
  const gateway = new GatewayDaemon(cfg, { sources: [source], log: () => undefined });
  const gwUrl = await gateway.start();
  cleanups.push(() => gateway.stop());
  await until(() => gateway.uplink.connected, 'the gateway uplink');
  const sub = await mqtt.connectAsync(mqttUrl, workerLogin(cloud.mqttCredential));
  cleanups.push(() => sub.endAsync(true));
  const outputs: { topic: string; payload: unknown }[] = [];
  sub.on('message', (topic, p) => {
    try {
      outputs.push({ topic, payload: JSON.parse(p.toString()) });
    } catch {
      /* signed tokens: not JSON */
    }
  });
  await sub.subscribeAsync('ferry/agg/#', { qos: 1 });
  return { cloud, httpUrl, gateway, gwUrl, source, outputs };
}

const edgeFilter = (runtime: string, resource: string) => ({
  headers: { runtime, targetResource: resource, jobType: 'single-filter' },
  jobConfig: {
    connectors: { input: 'ferry/up/gw-e2e/bthome/+', output: 'ferry/up/gw-e2e/hot' },
    jobProps: { condition: 'gt', threshold: 25, fieldName: 'temperature' },
  },
});
const cloudSum = (runtime: string, resource: string) => ({
  headers: { runtime, targetResource: resource, jobType: 'aggregation' },
  jobConfig: {
    connectors: { input: 'ferry/up/gw-e2e/hot', output: 'ferry/agg/hot-sum' },
    jobProps: { function: 'sum', fieldName: 'temperature', window: { type: 'tumbling', size: 3, unit: 'count' } },
  },
});

const modes: Mode[] = mosquittoAvailable() ? ['embedded', 'mosquitto'] : ['embedded'];
if (!mosquittoAvailable() && process.env['CI'] === 'true') it('Mosquitto is installed in CI', () => expect(mosquittoAvailable()).toBe(true));

describe.each(modes)('gateway + cloud (%s broker)', (mode) => {
  it('a two-stage pipeline: the edge filter on the gateway feeds an aggregation in the cloud, installed through the control channel', async () => {
    const { httpUrl, source, outputs } = await system(mode);
    // Installed on the gateway BY THE CLOUD, over MQTT (the gateway's HTTP API is not used).
    const inst = await post(`${httpUrl}/api/gateways/gw-e2e/api/install`, edgeFilter('gateway:gw-e2e', 'gateway:gw-e2e'));
    expect(inst.status).toBe(201);
    const { jobId: edgeId } = (await json(inst)) as { jobId: string };
    expect((await post(`${httpUrl}/api/gateways/gw-e2e/api/start`, { jobId: edgeId })).status).toBe(200);
    const c = await post(`${httpUrl}/api/install`, cloudSum('cloud', httpUrl));
    const { jobId: cloudId } = (await json(c)) as { jobId: string };
    expect((await post(`${httpUrl}/api/start`, { jobId: cloudId })).status).toBe(200);

    const temps = [20, 26, 24, 27, 30, 21, 25.5, 28, 19, 26.5];
    for (const t of temps) source.sink!.reading({ device: 'A4:C1:38:00:00:01', kind: 'bthome', atMs: Date.now(), values: { temperature: t } });
    const hot = temps.filter((t) => t > 25);
    const sums = [hot.slice(0, 3), hot.slice(3, 6)].map((w) => w.reduce((a, b) => a + b, 0));
    await until(() => outputs.filter((o) => o.topic === 'ferry/agg/hot-sum').length >= 2, 'two cloud aggregates');
    const got = outputs.filter((o) => o.topic === 'ferry/agg/hot-sum').map((o) => JSON.stringify(o.payload));
    for (const s of sums) expect(got.some((g) => g.includes(String(s)))).toBe(true);
    const status = (await json(await getAs(`${httpUrl}/api/gateways/gw-e2e/api/jobs/${edgeId}`))) as { counters: { in: number; out: number } };
    expect(status.counters).toMatchObject({ in: temps.length, out: hot.length });
  });

  it('moves a running cloud job to the gateway over the control channel, with its state', async () => {
    const { httpUrl, gateway, source, outputs } = await system(mode);
    const edge = await post(`${httpUrl}/api/gateways/gw-e2e/api/install`, edgeFilter('gateway:gw-e2e', 'gateway:gw-e2e'));
    const { jobId: edgeId } = (await json(edge)) as { jobId: string };
    await post(`${httpUrl}/api/gateways/gw-e2e/api/start`, { jobId: edgeId });
    const { jobId } = (await json(await post(`${httpUrl}/api/install`, cloudSum('cloud', httpUrl)))) as { jobId: string };
    await post(`${httpUrl}/api/start`, { jobId });
    // Two hot readings: half a window of state in the cloud job.
    for (const t of [26, 27]) source.sink!.reading({ device: 'A4:C1:38:00:00:01', kind: 'bthome', atMs: Date.now(), values: { temperature: t } });
    await until(
      async () => ((await json(await getAs(`${httpUrl}/api/jobs/${jobId}`))) as { counters: { in: number } }).counters.in === 2,
      'the cloud job to see two inputs',
    );
    const mv = await post(`${httpUrl}/api/move`, { jobId, target_runtime: 'gateway:gw-e2e', targetResource: 'gateway:gw-e2e' });
    expect([mv.status, mv.status === 200 ? '' : JSON.stringify(await mv.clone().json())]).toEqual([200, '']);
    expect(((await json(await getAs(`${httpUrl}/api/jobs`))) as unknown[]).length).toBe(0);
    const onGateway = gateway.rules.engine.list().find((j) => j.jobType === 'aggregation');
    expect(onGateway?.jobStatus).toBe('RUNNING');
    // The third hot reading completes the window ON THE GATEWAY: 26 + 27 + 28, state carried over.
    source.sink!.reading({ device: 'A4:C1:38:00:00:01', kind: 'bthome', atMs: Date.now(), values: { temperature: 28 } });
    await until(() => gateway.rules.engine.status(onGateway!.jobId).counters.out === 1, 'the moved job to emit');
    // The gateway's output reaches ferry/agg/hot-sum once, relayed by the cloud (a gateway publishes only in its
    // own space): the window's sum, and no second copy from the cloud, which no longer runs the job.
    await until(() => outputs.some((o) => o.topic === 'ferry/agg/hot-sum'), 'the moved job output relayed');
    await new Promise((r) => setTimeout(r, 300));
    const sums = outputs.filter((o) => o.topic === 'ferry/agg/hot-sum');
    expect(sums).toHaveLength(1);
    expect(JSON.stringify(sums[0]!.payload)).toContain('81');
    expect(gateway.rules.engine.status(onGateway!.jobId).counters.in).toBe(3);
  });
});
