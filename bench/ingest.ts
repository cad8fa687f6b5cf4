/**
 * @module bench:ingest — verified+stored messages per second: the ingest pipeline alone (in-memory ports),
 * next to the bare HMAC-verify limit measured in the same run; and end to end over loopback MQTT into
 * the embedded cloud service (aedes in process, SQLite, QoS 1, acknowledged after ingest) and into the
 * scale-out service (Mosquitto + Redis: one worker, then two sharing the stream), when both are installed.
 * Ends with one JSON line of the figures (medians of several runs).
 */
import { createHmac, createSecretKey } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CloudService } from '@ferry/cloud';
import { deviceLogin } from '@ferry/test-kit/mqtt-login';
import { Ingest } from '@ferry/cloud/ingest';
import { encode } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { mosquittoAvailable, mosquittoBroker, type TestBroker } from '@ferry/test-kit/brokers';
import { startRedis } from '@ferry/test-kit/redis';
import { fmt, median, measureInterleaved, progress } from './lib.ts';
import { ADMIN_TOKEN } from '@ferry/test-kit/http';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const SOURCES = 50;
const PER_SOURCE = 400;
const secret = new Uint8Array(32).map((_, i) => 7 * i + 3);
const key = hmacKey(secret);

/** Signed telemetry from SOURCES devices, interleaved as a gateway would forward them. */
function stream(epoch: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let sq = 0; sq < PER_SOURCE; sq++) {
    for (let s = 0; s < SOURCES; s++) {
      const kid = `dev-${s}`;
      const r = encode(
        { header: { kid, ep: epoch, sq }, claims: { iss: kid, iat: 1767225600 + sq, ev: 'tel', d: { t: 20 + (sq % 50) / 10, n: 1, heat: sq % 7 === 0 } } },
        key,
      );
      if (!r.ok) throw r.error;
      out.push(new TextEncoder().encode(r.value));
    }
  }
  return out;
}

const redis = mosquittoAvailable() ? await startRedis() : undefined;
const scaleOut = redis?.ok === true;
const bar = progress(RUNS * 2 + RUNS * (scaleOut ? 4 : 2), 'bench:ingest');
// Pipeline alone: each pass over the tokens starts a fresh Ingest, so nothing is a duplicate.
const tokens = stream(1);
let ingest = new Ingest({ keys: () => key });
let i = 0;
const keyObject = createSecretKey(secret);
const figures = await measureInterleaved(
  [
    {
      name: 'pipeline (verify, sequence, store, dispatch)',
      fn: () => {
        if (i === tokens.length) {
          ingest = new Ingest({ keys: () => key });
          i = 0;
        }
        ingest.ingest(tokens[i++]!);
      },
    },
    {
      name: 'bare HMAC-SHA256 verify (createHmac)',
      fn: () => {
        const t = tokens[i % tokens.length]!;
        createHmac('sha256', keyObject)
          .update(t.subarray(0, t.lastIndexOf(0x2e)))
          .digest();
      },
    },
  ],
  { runs: RUNS, bar },
);

// End to end: publish QoS 1 over loopback; count until all are accepted. Embedded: one process with aedes
// and SQLite. Scale-out: `workers` services on Mosquitto (shared subscription) and Redis, fresh keys per run.
// Embedded, MQTT authentication and ACLs are on as in production; `mqttAuth: false` is the same-run baseline
// that shows what they cost (CloudOptions.mqttAuth exists for this comparison only).
async function endToEnd(mode: { workers: number; broker?: TestBroker; redisUrl?: string; mqttAuth?: false } = { workers: 1 }): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ferry-bench-'));
  const svcs = Array.from(
    { length: mode.workers },
    () =>
      new CloudService({
        adminToken: ADMIN_TOKEN,
        dataDir,
        mqttPort: 0,
        httpPort: 0,
        log: () => undefined,
        functionRunner: 'in-process',
        ...(mode.broker !== undefined && { mqttUrl: mode.broker.url, shared: true }),
        ...(mode.redisUrl !== undefined && { redisUrl: mode.redisUrl }),
        ...(mode.mqttAuth === false && { mqttAuth: false as const }),
      }),
  );
  let mqttUrl = '';
  for (const svc of svcs) mqttUrl = (await svc.start()).mqttUrl;
  const svc = svcs[0]!;
  const run = `r${Math.random().toString(36).slice(2, 8)}`; // Redis state outlives a run: new device ids
  // As deployed: one gateway forwards its boards' messages, each on its board's own uplink topic (ingest
  // refuses a message on another kid's topic), logged in as the gateway the boards are attached to.
  const gw = `${run}-gw`;
  const gwKey = svc.devices.add(gw, 'default', Date.now(), undefined, { kind: 'gateway' }).key;
  for (let s = 0; s < SOURCES; s++) svc.devices.add(`${run}-${s}`, 'default', Date.now(), undefined, { gateway: gw });
  const keys = new Map<string, ReturnType<typeof hmacKey>>();
  for (let s = 0; s < SOURCES; s++) keys.set(`${run}-${s}`, svc.devices.keys(`${run}-${s}`)!);
  const msgs: string[] = [];
  const topics: string[] = [];
  for (let sq = 0; sq < PER_SOURCE; sq++)
    for (let s = 0; s < SOURCES; s++) {
      const kid = `${run}-${s}`;
      const r = encode({ header: { kid, ep: 1, sq }, claims: { iss: kid, iat: 1767225600 + sq, ev: 'tel', d: { t: 21.5 } } }, keys.get(kid)!);
      if (r.ok) {
        msgs.push(r.value);
        topics.push(`ferry/up/${kid}/msg`);
      }
    }
  const accepted = (): number => svcs.reduce((n, x) => n + x.ingest.counters().accepted, 0);
  // The publisher runs in a worker thread (its own event loop, the other core), as a gateway would elsewhere.
  const login = mode.broker === undefined ? deviceLogin(gw, gwKey) : {};
  const pub = new Worker(new URL('./publisher.worker.mjs', import.meta.url), { workerData: { url: mqttUrl, topics, msgs, window: 256, login } });
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    pub.once('message', () => resolve());
    pub.once('error', reject);
  });
  while (accepted() < msgs.length) await new Promise((r) => setTimeout(r, 5));
  const seconds = (performance.now() - t0) / 1000;
  await pub.terminate();
  for (const x of svcs) await x.stop();
  bar.increment();
  return msgs.length / seconds;
}
const e2e: number[] = [];
const e2eAuthOff: number[] = [];
const redis1: number[] = [];
const redis2: number[] = [];
let broker: TestBroker | undefined;
if (scaleOut) broker = await mosquittoBroker();
for (let r = 0; r < RUNS; r++) {
  // Alternating which goes first, so warm-up and the machine's other load do not favour one of the two.
  if (r % 2 === 0) e2e.push(await endToEnd());
  e2eAuthOff.push(await endToEnd({ workers: 1, mqttAuth: false }));
  if (r % 2 === 1) e2e.push(await endToEnd());
  if (broker !== undefined && redis?.ok === true) {
    redis1.push(await endToEnd({ workers: 1, broker, redisUrl: redis.url }));
    redis2.push(await endToEnd({ workers: 2, broker, redisUrl: redis.url }));
  }
}
bar.stop();
await broker?.stop();
if (redis?.ok === true) await redis.stop();

const pipeline = figures[0]!.opsPerSec;
const bare = figures[1]!.opsPerSec;
const embedded = median(e2e);
const embeddedAuthOff = median(e2eAuthOff);
console.log(`${SOURCES} sources x ${PER_SOURCE} messages; medians of ${RUNS} runs`);
console.log(`  ${figures[0]!.name.padEnd(46)} ${fmt(pipeline).padStart(10)}`);
console.log(`  ${figures[1]!.name.padEnd(46)} ${fmt(bare).padStart(10)}`);
console.log(`  ${'embedded end to end (MQTT QoS 1, loopback)'.padEnd(46)} ${fmt(embedded).padStart(10)}`);
console.log(`  ${'  the same, MQTT authentication off (baseline)'.padEnd(46)} ${fmt(embeddedAuthOff).padStart(10)}`);
if (scaleOut) {
  console.log(`  ${'Mosquitto + Redis, 1 worker'.padEnd(46)} ${fmt(median(redis1)).padStart(10)}`);
  console.log(`  ${'Mosquitto + Redis, 2 workers ($share)'.padEnd(46)} ${fmt(median(redis2)).padStart(10)}`);
} else {
  console.log('  scale-out mode not measured: mosquitto or redis-server is not installed');
}
console.log(
  `  pipeline at ${((pipeline / bare) * 100).toFixed(0)} % of the bare-HMAC limit (goal >= 50 %); embedded ${embedded >= 10_000 ? 'meets' : 'misses'} the 10k msg/s goal`,
);
console.log(
  JSON.stringify({
    bench: 'ingest',
    runs: RUNS,
    sources: SOURCES,
    per_source: PER_SOURCE,
    msgs_per_sec: {
      pipeline: Math.round(pipeline),
      bare_hmac_verify: Math.round(bare),
      embedded_end_to_end: Math.round(embedded),
      embedded_end_to_end_mqtt_auth_off: Math.round(embeddedAuthOff),
    },
    ratios: { pipeline_vs_bare_hmac: Number((pipeline / bare).toFixed(3)), mqtt_auth_on_vs_off: Number((embedded / embeddedAuthOff).toFixed(3)) },
    ...(scaleOut && { redis_mode: { one_worker: Math.round(median(redis1)), two_workers: Math.round(median(redis2)) } }),
  }),
);
