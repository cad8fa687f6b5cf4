/**
 * @module Benchmark: a basic composite stream (two inputs, C = A + B) end to end through a running embedded
 * CloudService (aedes, the ACL port, the flows of cloud/src/compose/flows.ts): a sensor update in over MQTT
 * (a device publishes on `ferry/so/<so>/A/in`, QoS 1) or over HTTP (`PUT /api/v1/sos/<so>/streams/A`, when the
 * cloud serves it), until the composite's output reaches a device subscribed to `ferry/so/<so>/C`. Each
 * update is sent after the previous output arrived. Baseline, in the same run and interleaved with it: a
 * plain MQTT publish -> subscribe round trip through the same broker (QoS 1). Goal: p99 <= 10 ms.
 * The host and its flows are the cloud's own. Progress on stderr; the last line is JSON.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { CloudService } from '@ferry/cloud';
import { ADMIN_TOKEN } from '@ferry/test-kit/http';
import { deviceLogin, workerLogin } from '@ferry/test-kit/mqtt-login';
import { progress } from './lib.ts';

const ROUNDS = Number(process.env['ROUNDS'] ?? 10);
const PER_ROUND = Number(process.env['PER_ROUND'] ?? 100);
const OWNER = 'bench';
const SO_DOC = {
  streams: {
    A: { channels: { v: { type: 'number', unit: '' } } },
    B: { channels: { v: { type: 'number', unit: '' } } },
    C: { channels: { sum: { 'current-value': '{$A.channels.v.current-value} + {$B.channels.v.current-value}', type: 'number' } } },
  },
};

/** Connects with Nagle's algorithm off, as the cloud's own connections are (@ferry/mqtt-rest noDelay): small request/response packets. */
async function connect(opts: mqtt.IClientOptions): Promise<MqttClient> {
  const c = await mqtt.connectAsync(mqttUrlOf(), { ...opts, reconnectPeriod: 0 });
  (c.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  return c;
}
let mqttUrlOf = (): string => '';

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const ms = (x: number): number => Number(x.toFixed(3));
const stats = (xs: readonly number[]): { p50_ms: number; p99_ms: number; samples: number } => ({
  p50_ms: ms(quantile(xs, 0.5)),
  p99_ms: ms(quantile(xs, 0.99)),
  samples: xs.length,
});

const dataDir = mkdtempSync(join(tmpdir(), 'ferry-bench-compose-e2e-'));
// The per-owner update rate and the per-credential HTTP rate (200/s each by default) are raised: this measures
// latency, one update at a time, not the flood limits.
const cloud = new CloudService({
  adminToken: ADMIN_TOKEN,
  dataDir,
  httpPort: 0,
  mqttPort: 0,
  log: () => undefined,
  functionRunner: 'in-process',
  compose: { updatesPerSecond: 1_000_000, updateBurst: 1_000_000 },
  httpRates: { perCredential: 1_000_000, anonymous: 20 },
});
const { mqttUrl, httpUrl } = await cloud.start();
mqttUrlOf = () => mqttUrl;

// The object, through the REST API as its owner.
const owner = (await (
  await fetch(`${httpUrl}/api/owners`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: OWNER }),
  })
).json()) as { privateToken: string };
const ownerToken = owner.privateToken;
const made = await fetch(`${httpUrl}/api/v1/sos`, {
  method: 'POST',
  headers: { authorization: `Bearer ${ownerToken}`, 'content-type': 'application/json' },
  body: JSON.stringify(SO_DOC),
});
if (made.status !== 201) throw new Error(`POST /api/v1/sos answered ${made.status} ${await made.text()}`);
const so = ((await made.json()) as { id: string }).id;
const dev = cloud.devices.add('bench-dev', 'home', Date.now(), OWNER);
const device = await connect(deviceLogin('bench-dev', dev.key));
const ping = await connect(workerLogin(cloud.mqttCredential));
const pong = await connect(workerLogin(cloud.mqttCredential));

/** One waiter per client: resolves on the next message of the topic; a message that never comes fails the run (no hang). */
function arrivals(c: MqttClient, topic: string): () => Promise<void> {
  let next: (() => void) | undefined;
  c.on('message', (t) => {
    if (t === topic) next?.();
  });
  return () =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message on ${topic} within 10 s`)), 10_000);
      next = () => {
        clearTimeout(timer);
        resolve();
      };
    });
}
const outTopic = `ferry/so/${so}/C`;
await device.subscribeAsync(outTopic, { qos: 1 });
await pong.subscribeAsync('ferry/bench/echo', { qos: 1 });
const output = arrivals(device, outTopic);
const echo = arrivals(pong, 'ferry/bench/echo');

let lastUpdate = Date.now();
const su = (v: number): string => JSON.stringify({ channels: { v: { 'current-value': v } }, lastUpdate: ++lastUpdate });
// B's first value makes an output too: it is awaited, so that every later wait is for its own update's output.
const fromB = output();
await cloud.compose.push({ owner: OWNER }, so, 'B', JSON.parse(su(1)));
await fromB;

// The first update over HTTP: its output is awaited from before the request (it may arrive before the answer).
const first = output();
const probe = await fetch(`${httpUrl}/api/v1/sos/${so}/streams/A`, {
  method: 'PUT',
  headers: { authorization: `Bearer ${ownerToken}`, 'content-type': 'application/json' },
  body: su(0),
});
if (probe.status >= 300) throw new Error(`PUT /api/v1/sos/{so}/streams/A answered ${probe.status} ${await probe.text()}`);
await first;
const httpOn = true;

const samples = { baseline: [] as number[], mqtt: [] as number[], http: [] as number[] };
const bar = progress(ROUNDS, 'compose e2e');
for (let r = 0; r < ROUNDS; r++) {
  for (let i = 0; i < PER_ROUND; i++) {
    const e = echo();
    let t0 = performance.now();
    ping.publish('ferry/bench/echo', su(i), { qos: 1 });
    await e;
    samples.baseline.push(performance.now() - t0);
    const o = output();
    t0 = performance.now();
    device.publish(`ferry/so/${so}/A/in`, su(i), { qos: 1 });
    await o;
    samples.mqtt.push(performance.now() - t0);
    if (httpOn) {
      const h = output();
      t0 = performance.now();
      const r = await fetch(`${httpUrl}/api/v1/sos/${so}/streams/A`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${ownerToken}`, 'content-type': 'application/json' },
        body: su(i),
      });
      if (r.status >= 300) throw new Error(`PUT answered ${r.status} ${await r.text()}`);
      await h;
      samples.http.push(performance.now() - t0);
    }
  }
  bar.increment();
}
bar.stop();

const base = stats(samples.baseline);
const viaMqtt = stats(samples.mqtt);
const viaHttp = httpOn ? stats(samples.http) : undefined;
console.log(`basic composite C = A + B end to end, ${ROUNDS} x ${PER_ROUND} updates, the cloud's own host`);
console.log(`  baseline MQTT publish -> subscribe   p50 ${base.p50_ms.toFixed(3)} ms  p99 ${base.p99_ms.toFixed(3)} ms`);
console.log(`  SU in over MQTT -> output over MQTT  p50 ${viaMqtt.p50_ms.toFixed(3)} ms  p99 ${viaMqtt.p99_ms.toFixed(3)} ms  (goal p99 <= 10 ms)`);
if (viaHttp !== undefined) console.log(`  SU in over HTTP -> output over MQTT  p50 ${viaHttp.p50_ms.toFixed(3)} ms  p99 ${viaHttp.p99_ms.toFixed(3)} ms`);
else console.log('  SU in over HTTP: skipped (this cloud serves no PUT /api/v1/sos/{so}/streams/{stream}: its composite-stream host is not wired in)');
console.log(
  JSON.stringify({
    bench: 'compose-e2e',
    host: 'cloud',
    rounds: ROUNDS,
    per_round: PER_ROUND,
    baseline: base,
    mqtt_in: viaMqtt,
    http_in: viaHttp ?? null,
    ratios: {
      mqtt_in_p50_vs_baseline: Number((viaMqtt.p50_ms / base.p50_ms).toFixed(2)),
      mqtt_in_p99_vs_baseline: Number((viaMqtt.p99_ms / base.p99_ms).toFixed(2)),
    },
    goal_p99_ms: 10,
    goal_met: viaMqtt.p99_ms <= 10 && (viaHttp === undefined || viaHttp.p99_ms <= 10),
  }),
);
for (const c of [device, ping, pong]) await c.endAsync(true);
await cloud.stop();
rmSync(dataDir, { recursive: true, force: true });
