/**
 * @module bench:tls — what TLS costs (docs/cloud.md "TLS"), every figure next to its plain baseline in the same
 * run, runs interleaved so a change of load hits both alike: the handshake (connect to CONNACK over mqtt and
 * mqtts; a fresh-connection GET over http and https), the embedded cloud's ingest throughput end to end (QoS 1,
 * loopback, the publisher in a worker thread), and warm function-call latency p50/p99 over mqtt and mqtts. The
 * certificates are `ferry cloud certs`' (ECDSA P-256), the clients pin the CA. Medians of several runs; ends
 * with one JSON line.
 */
import { ADMIN_TOKEN } from '@ferry/test-kit/http';
import { workerLogin } from '@ferry/test-kit/mqtt-login';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import mqtt, { type IClientOptions } from 'mqtt';
import { CloudService } from '@ferry/cloud';
import { encode } from '@ferry/message';
import { noDelay } from '@ferry/mqtt-rest';
import { KV_WAT } from '@ferry/test-kit/functions';
import { wat } from '@ferry/test-kit/wat';
import { labCertificates } from '../cli/src/certs.ts';
import { generatePrivateToken, mintPublicToken } from '../cloud/src/functions/index.ts';
import { fmt, median, progress } from './lib.ts';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const HANDSHAKES = Number(process.env['BENCH_HANDSHAKES'] ?? 40);
const CALLS = Number(process.env['BENCH_CALLS'] ?? 1000);
const SOURCES = 50;
const PER_SOURCE = 200;
const certs = await labCertificates();
const ca = certs.ca.cert;
const tls = { cert: certs.server.cert, key: certs.server.key, ca };
type Mode = 'plain' | 'tls';
const MODES: readonly Mode[] = ['plain', 'tls'];
const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const clientTls = (m: Mode): IClientOptions => (m === 'tls' ? { ca, rejectUnauthorized: true } : {});
/** The bench's clients stand in for the cloud or for many devices at once: they log in as the cloud's worker. */
const login = (svc: CloudService): IClientOptions => ({
  ...workerLogin(svc.mqttCredential),
  clientId: `${svc.mqttCredential!.username}-bench-${Math.random().toString(36).slice(2, 8)}`,
});

async function cloud(m: Mode): Promise<{ svc: CloudService; mqttUrl: string; httpUrl: string }> {
  const svc = new CloudService({
    adminToken: ADMIN_TOKEN,
    dataDir: mkdtempSync(join(tmpdir(), 'ferry-bench-tls-')),
    mqttPort: 0,
    httpPort: 0,
    functionRunner: 'in-process', // the transport is under test, not the sandbox
    log: () => undefined,
    ...(m === 'tls' && { tls }),
  });
  return { svc, ...(await svc.start()) };
}

const bar = progress(RUNS * 8, 'bench:tls');
const clouds = { plain: await cloud('plain'), tls: await cloud('tls') };

// 1. Handshakes: a new connection each time, closed right after.
const mqttConnect = async (m: Mode): Promise<number> => {
  const t0 = performance.now();
  const c = await mqtt.connectAsync(clouds[m].mqttUrl, { reconnectPeriod: 0, ...clientTls(m), ...login(clouds[m].svc) }, false);
  const ms = performance.now() - t0;
  await c.endAsync(true);
  return ms;
};
const httpGet = (m: Mode): Promise<number> =>
  new Promise((resolve, reject) => {
    const t0 = performance.now();
    const done = (res: import('node:http').IncomingMessage): void => {
      res.resume();
      res.on('end', () => resolve(performance.now() - t0));
    };
    const url = `${clouds[m].httpUrl}/health`;
    const req = m === 'tls' ? httpsRequest(url, { agent: false, ca, rejectUnauthorized: true }, done) : httpRequest(url, { agent: false }, done);
    req.on('error', reject);
    req.end();
  });
const handshake = { mqtt: { plain: [] as number[], tls: [] as number[] }, http: { plain: [] as number[], tls: [] as number[] } };
for (const m of MODES) for (let i = 0; i < 10; i++) await Promise.all([mqttConnect(m), httpGet(m)]); // warm-up
for (let r = 0; r < RUNS; r++) {
  for (const m of MODES) {
    const mq: number[] = [];
    const ht: number[] = [];
    for (let i = 0; i < HANDSHAKES; i++) {
      mq.push(await mqttConnect(m));
      ht.push(await httpGet(m));
    }
    handshake.mqtt[m].push(median(mq));
    handshake.http[m].push(median(ht));
    bar.increment();
  }
}

// 2. Warm function calls over one connection each, as a board keeps it.
const module = wat(KV_WAT);
const hash = createHash('sha256').update(module).digest('hex');
const priv = generatePrivateToken('bench');
const minted = mintPublicToken(priv, { subject: 'bench-dev', ttlS: 3600, namespaces: ['home'], rate: { perSecond: 1_000_000, burst: 1_000_000 } }, Date.now());
if (!minted.ok) throw minted.error;
const call = { hash, export: 'add', args: [2, 3], namespace: 'home', token: minted.value };
const callers = {} as Record<Mode, () => Promise<void>>;
const clients: mqtt.MqttClient[] = [];
for (const m of MODES) {
  const { svc, mqttUrl } = clouds[m];
  if (!svc.functions.register(priv).ok) throw new Error('register');
  svc.functions.setWhitelisted(priv, 'home', hash, true);
  await svc.functions.upload({ bytes: module, token: minted.value, namespace: 'home' });
  const client = noDelay(await mqtt.connectAsync(mqttUrl, { ...clientTls(m), ...login(svc) }));
  clients.push(client);
  const waiting = new Map<number, () => void>();
  client.on('message', (_t, p) => {
    const id = (JSON.parse(p.toString()) as { id: number }).id;
    waiting.get(id)?.();
    waiting.delete(id);
  });
  await client.subscribeAsync('ferry/fn/bench/res', { qos: 1 });
  let id = 0;
  callers[m] = async () => {
    const my = ++id;
    const done = new Promise<void>((r) => waiting.set(my, r));
    await client.publishAsync('ferry/fn/bench/call', JSON.stringify({ id: my, ...call }), { qos: 1 });
    await done;
  };
  for (let i = 0; i < 200; i++) await callers[m]();
}
const calls = { plain: { p50: [] as number[], p99: [] as number[] }, tls: { p50: [] as number[], p99: [] as number[] } };
for (let r = 0; r < RUNS; r++) {
  for (const m of MODES) {
    const lat: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const t0 = performance.now();
      await callers[m]();
      lat.push(performance.now() - t0);
    }
    calls[m].p50.push(quantile(lat, 0.5));
    calls[m].p99.push(quantile(lat, 0.99));
    bar.increment();
  }
}
for (const c of clients) await c.endAsync();
for (const m of MODES) await clouds[m].svc.stop();

// 3. Embedded ingest end to end, a fresh cloud per run (as bench:ingest), the publisher in a worker thread.
async function ingest(m: Mode): Promise<number> {
  const { svc, mqttUrl } = await cloud(m);
  const msgs: string[] = [];
  const topics: string[] = []; // each device's own uplink topic: the cloud refuses a message on another's
  for (let s = 0; s < SOURCES; s++) svc.devices.add(`dev-${s}`);
  for (let sq = 0; sq < PER_SOURCE; sq++)
    for (let s = 0; s < SOURCES; s++) {
      const kid = `dev-${s}`;
      const r = encode({ header: { kid, ep: 1, sq }, claims: { iss: kid, iat: 1767225600 + sq, ev: 'tel', d: { t: 21.5 } } }, svc.devices.keys(kid)!);
      if (!r.ok) throw r.error;
      msgs.push(r.value);
      topics.push(`ferry/up/${kid}/msg`);
    }
  const pub = new Worker(new URL('./publisher.worker.mjs', import.meta.url), {
    workerData: { url: mqttUrl, topic: '', topics, msgs, window: 256, login: login(svc), ...(m === 'tls' && { ca }) },
  });
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    pub.once('message', () => resolve());
    pub.once('error', reject);
  });
  while (svc.ingest.counters().accepted < msgs.length) await new Promise((r) => setTimeout(r, 5));
  const seconds = (performance.now() - t0) / 1000;
  await pub.terminate();
  await svc.stop();
  bar.increment();
  return msgs.length / seconds;
}
const throughput = { plain: [] as number[], tls: [] as number[] };
for (let r = 0; r < RUNS; r++) for (const m of MODES) throughput[m].push(await ingest(m));
bar.stop();

const ms = (x: number): number => Number(x.toFixed(3));
const ratio = (a: number, b: number): number => Number((a / b).toFixed(2));
const hs = {
  mqtt: { plain: median(handshake.mqtt.plain), tls: median(handshake.mqtt.tls) },
  http: { plain: median(handshake.http.plain), tls: median(handshake.http.tls) },
};
const tp = { plain: median(throughput.plain), tls: median(throughput.tls) };
const lat = {
  plain: { p50: median(calls.plain.p50), p99: median(calls.plain.p99) },
  tls: { p50: median(calls.tls.p50), p99: median(calls.tls.p99) },
};
const f = (x: number): string => `${x.toFixed(2)} ms`;
console.log(`medians of ${RUNS} runs, interleaved; ECDSA P-256 certificates, TLS 1.3, loopback; in-process function runner`);
console.log(`  handshake to CONNACK   mqtt ${f(hs.mqtt.plain)}   mqtts ${f(hs.mqtt.tls)}   x${ratio(hs.mqtt.tls, hs.mqtt.plain)}`);
console.log(`  fresh GET /health      http ${f(hs.http.plain)}   https ${f(hs.http.tls)}   x${ratio(hs.http.tls, hs.http.plain)}`);
console.log(`  embedded ingest        mqtt ${fmt(tp.plain)}   mqtts ${fmt(tp.tls)}   x${ratio(tp.tls, tp.plain)}`);
console.log(`  warm call p50          mqtt ${f(lat.plain.p50)}   mqtts ${f(lat.tls.p50)}   x${ratio(lat.tls.p50, lat.plain.p50)}`);
console.log(`  warm call p99          mqtt ${f(lat.plain.p99)}   mqtts ${f(lat.tls.p99)}   x${ratio(lat.tls.p99, lat.plain.p99)}`);
console.log(
  JSON.stringify({
    bench: 'tls',
    runs: RUNS,
    handshake_ms: { mqtt: ms(hs.mqtt.plain), mqtts: ms(hs.mqtt.tls), http: ms(hs.http.plain), https: ms(hs.http.tls) },
    ingest_msgs_per_sec: { mqtt: Math.round(tp.plain), mqtts: Math.round(tp.tls) },
    warm_call_ms: { mqtt: { p50: ms(lat.plain.p50), p99: ms(lat.plain.p99) }, mqtts: { p50: ms(lat.tls.p50), p99: ms(lat.tls.p99) } },
    ratios: {
      mqtts_vs_mqtt_handshake: ratio(hs.mqtt.tls, hs.mqtt.plain),
      https_vs_http_handshake: ratio(hs.http.tls, hs.http.plain),
      mqtts_vs_mqtt_ingest: ratio(tp.tls, tp.plain),
      mqtts_vs_mqtt_call_p50: ratio(lat.tls.p50, lat.plain.p50),
      mqtts_vs_mqtt_call_p99: ratio(lat.tls.p99, lat.plain.p99),
    },
  }),
);
