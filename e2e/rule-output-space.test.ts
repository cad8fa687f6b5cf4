/**
 * A gateway rule whose output topic lies outside the gateway's own MQTT space (`<p>/agg/...`, where a job
 * moved from the cloud keeps publishing) must not stall the gateway: the broker's ACLs refuse a publish there
 * by closing the connection, so an output queued on that topic would be resent forever and hold back every
 * reading behind it. The gateway sends it on its own `<p>/up/<gw>/rule` (the signed message names the
 * intended topic); the cloud feeds it to its rules under that topic and relays it there for subscribers.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestCloud } from '../cloud/src/service/test-cloud.case.ts';
import { GatewayDaemon, parseConfig } from '@ferry/gateway';
import { workerLogin } from '@ferry/test-kit/mqtt-login';
import { ScriptedSource } from '@ferry/test-kit/sources';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const until = async (cond: () => boolean, what: string, ms = 15_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('gateway rule outputs outside its MQTT space', () => {
  it('reach subscribers and cloud rules through the cloud, and never stall the readings behind them', async () => {
    const { svc: cloud, mqttUrl, stop } = await startTestCloud({ name: 'ros' });
    cleanups.push(stop);
    const { key } = cloud.devices.add('gw-ros', 'default', Date.now(), undefined, { kind: 'gateway' });
    const watcher = await mqtt.connectAsync(mqttUrl, workerLogin(cloud.mqttCredential));
    cleanups.push(() => watcher.endAsync(true));
    const relayed: unknown[] = [];
    watcher.on('message', (_t, p) => relayed.push(JSON.parse(p.toString()) as unknown));
    await watcher.subscribeAsync('ferry/agg/hot', { qos: 1 });
    const cloudInputs: unknown[] = [];
    const { jobId: cloudJob } = cloud.rules.engine.install({
      headers: { runtime: 'cloud', targetResource: 'cloud', jobType: 'single-filter' },
      jobConfig: { connectors: { input: 'ferry/agg/hot', output: 'ferry/agg/hotter' }, jobProps: { condition: 'gt', threshold: 0, fieldName: 'temperature' } },
    });
    cloud.rules.engine.start(cloudJob);

    const source = new ScriptedSource();
    const gateway = new GatewayDaemon(
      parseConfig({ gateway: { id: 'gw-ros', key, data_dir: mkdtempSync(join(tmpdir(), 'ferry-ros-gw-')) }, uplink: { url: mqttUrl }, api: { port: 0 } }),
      { sources: [source], log: () => undefined },
    );
    await gateway.start();
    cleanups.push(() => gateway.stop());
    const { jobId } = gateway.rules.engine.install({
      headers: { runtime: 'gateway:gw-ros', targetResource: 'gateway:gw-ros', jobType: 'single-filter' },
      jobConfig: {
        connectors: { input: 'ferry/up/gw-ros/bthome/+', output: 'ferry/agg/hot' },
        jobProps: { condition: 'gt', threshold: 25, fieldName: 'temperature' },
      },
    });
    gateway.rules.engine.start(jobId);
    cloud.ingest.subscribe((e) => {
      if (e.type === 'message' && e.message.claims['ev'] === 'rule') cloudInputs.push(e.message.claims['d']);
    });

    for (const t of [30, 20, 31, 22]) source.sink!.reading({ device: 'A4:C1:38:00:00:09', kind: 'bthome', atMs: Date.now(), values: { temperature: t } });
    // Every reading and both outputs get through: the outbox drains, the cloud accepts them all.
    await until(() => gateway.outbox.stats().rows === 0 && cloud.ingest.counters().accepted === 6, 'the outbox to drain into the cloud');
    await until(() => relayed.length === 2, 'the two outputs relayed on ferry/agg/hot');
    expect(relayed).toEqual([expect.objectContaining({ temperature: 30 }), expect.objectContaining({ temperature: 31 })]);
    expect(cloudInputs).toEqual([expect.objectContaining({ topic: 'ferry/agg/hot' }), expect.objectContaining({ topic: 'ferry/agg/hot' })]);
    await until(() => cloud.rules.engine.status(cloudJob).counters.in === 2, 'the cloud rule on ferry/agg/hot to see both');
    await new Promise((r) => setTimeout(r, 300));
    expect([cloud.rules.engine.status(cloudJob).counters.in, relayed.length]).toEqual([2, 2]); // once each, not again through the relay
  }, 40_000);
});
