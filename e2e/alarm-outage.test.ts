/**
 * An alarm rule (jobType `alarm`) installed on a gateway keeps alarming while the cloud is unreachable: its
 * `forMs` runs out on the gateway's own tick (no new reading needed), the raise and the later clear are signed
 * into the gateway's outbox on its own `<p>/up/<gw>/rule`, and once the cloud's broker is back they reach the
 * cloud in order, verified by ingest, with the alarm topic their signed claims name (docs/rules.md, "Alarm
 * rules (jobType alarm)"; docs/gateway.md for the outbox).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CloudService } from '@ferry/cloud';
import { testCloudOptions } from '../cloud/src/service/test-cloud.case.ts';
import { GatewayDaemon, parseConfig } from '@ferry/gateway';
import type { AlarmTransition } from '@ferry/rules';
import { freePort } from '@ferry/test-kit/ports';
import { ScriptedSource } from '@ferry/test-kit/sources';
import { until } from '@ferry/test-kit/until';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const ALARM_TOPIC = 'ferry/alarms/default/cold-room';

describe('an alarm rule on a gateway during a cloud outage', () => {
  it('raises on the gateway while the broker is down; raise and clear reach the cloud, signed, after it returns', async () => {
    const mqttPort = await freePort();
    const cloudOpts = testCloudOptions({ name: 'alarm-cloud', mqttPort });
    const first = new CloudService(cloudOpts);
    await first.start();
    const { key } = first.devices.add('gw-al', 'default', Date.now(), undefined, { kind: 'gateway' });
    await first.stop(); // the outage: nothing listens on the broker's port from here on

    const source = new ScriptedSource();
    const gateway = new GatewayDaemon(
      parseConfig({
        gateway: { id: 'gw-al', key, data_dir: mkdtempSync(join(tmpdir(), 'ferry-alarm-gw-')) },
        uplink: { url: `mqtt://127.0.0.1:${mqttPort}` },
        api: { port: 0 },
      }),
      { sources: [source], log: () => undefined },
    );
    await gateway.start();
    cleanups.push(() => gateway.stop());
    const { jobId } = gateway.rules.engine.install({
      headers: { runtime: 'gateway:gw-al', targetResource: 'cold-room', jobType: 'alarm' },
      jobConfig: {
        connectors: { input: 'ferry/up/gw-al/bthome/+', output: ALARM_TOPIC },
        jobProps: { type: 'cold-room.warm', severity: 'major', value: 'temperature', source: 'device', condition: { op: '>', threshold: 8 }, forMs: 400 },
      },
    });
    gateway.rules.engine.start(jobId);
    const transitions = () => gateway.rules.engine.status(jobId).counters.out;

    // One warm reading, then nothing: the gateway's rules timer must raise it once forMs has passed.
    source.sink!.reading({ device: 'th-7', kind: 'bthome', atMs: Date.now(), values: { temperature: 9.5 } });
    await until(() => transitions() === 1, 'the gateway to raise the held breach on its own tick');
    expect(gateway.uplink.connected).toBe(false);
    source.sink!.reading({ device: 'th-7', kind: 'bthome', atMs: Date.now(), values: { temperature: 4 } });
    await until(() => transitions() === 2, 'the clear');
    // Two readings and two transitions wait in the outbox, nothing was sent.
    expect(gateway.outbox.stats().rows).toBe(4);

    const cloud = new CloudService(cloudOpts);
    const received: { topic: string | undefined; d: unknown }[] = [];
    cloud.ingest.subscribe((e) => {
      if (e.type === 'message' && e.message.claims['ev'] === 'rule') received.push({ topic: e.topic, d: e.message.claims['d'] });
    });
    await cloud.start();
    cleanups.push(() => cloud.stop());

    await until(() => gateway.outbox.stats().rows === 0 && received.length === 2, 'the outbox to drain into the cloud', 60_000);
    expect(received.map((r) => r.topic)).toEqual(['ferry/up/gw-al/rule', 'ferry/up/gw-al/rule']);
    const relayed = received.map((r) => r.d as { topic: string; out: AlarmTransition });
    expect(relayed.map((r) => r.topic)).toEqual([ALARM_TOPIC, ALARM_TOPIC]);
    const [raise, clear] = relayed.map((r) => r.out);
    expect(raise).toMatchObject({
      kind: 'raise',
      type: 'cold-room.warm',
      source: 'th-7',
      severity: 'major',
      value: 9.5,
      rule: jobId,
      reason: 'temperature > 8 for 400 ms',
    });
    expect(clear).toMatchObject({ kind: 'clear', type: 'cold-room.warm', source: 'th-7', value: 4, rule: jobId, reason: 'temperature > 8 no longer holds' });
    expect(clear!.atMs).toBeGreaterThanOrEqual(raise!.atMs);
    // Accepted once each by ingest (signature, epoch and sequence checked), with the two readings.
    expect(cloud.ingest.counters().accepted).toBe(4);
  }, 90_000);
});
