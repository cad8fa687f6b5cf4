/**
 * @module bench:functions — functions by hash in the cloud: in-process calls/s (the whole protocol: token,
 * white-list, args, run), warm call latency p50/p99 over loopback HTTP and MQTT into the running cloud
 * service (pooled, sandboxed runner), and a cold call (module upload + compile + first call). Medians of
 * several runs; ends with one JSON line.
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { CloudService } from '@ferry/cloud';
import { noDelay } from '@ferry/mqtt-rest';
import { workerLogin } from '@ferry/test-kit/mqtt-login';
import { wat } from '@ferry/test-kit/wat';
import { FunctionService, InProcessRunner, generatePrivateToken, mintPublicToken } from '../cloud/src/functions/index.ts';
import { KV_WAT } from '@ferry/test-kit/functions';
import { fmt, median, progress } from './lib.ts';
import { ADMIN_TOKEN, bearer } from '@ferry/test-kit/http';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const CALLS = Number(process.env['BENCH_CALLS'] ?? 2000);
const module = wat(KV_WAT);
const hash = createHash('sha256').update(module).digest('hex');
const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

function credentials(): { priv: string; pub: string } {
  const priv = generatePrivateToken('bench');
  const pub = mintPublicToken(priv, { subject: 'bench-dev', ttlS: 3600, namespaces: ['home'], rate: { perSecond: 1_000_000, burst: 1_000_000 } }, Date.now());
  if (!pub.ok) throw pub.error;
  return { priv, pub: pub.value };
}

const bar = progress(RUNS * 4, 'bench:functions');

// 1. In-process: the whole protocol, no transport.
const inProc: number[] = [];
{
  const { priv, pub } = credentials();
  const fns = new FunctionService({ runner: new InProcessRunner() });
  if (!fns.register(priv).ok) throw new Error('register');
  fns.setWhitelisted(priv, 'home', hash, true);
  await fns.upload({ bytes: module, token: pub, namespace: 'home' });
  const req = { hash, export: 'add', args: [2, 3], namespace: 'home', token: pub };
  for (let i = 0; i < 2000; i++) await fns.handleCall(req);
  for (let r = 0; r < RUNS; r++) {
    const n = 20_000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await fns.handleCall(req);
    inProc.push((n * 1000) / (performance.now() - t0));
    bar.increment();
  }
  await fns.runner.close();
}

// 2. Through the running cloud service (pooled runner): HTTP and MQTT warm latency, and a cold call.
const svc = new CloudService({
  adminToken: ADMIN_TOKEN,
  dataDir: mkdtempSync(join(tmpdir(), 'ferry-bench-fn-')),
  mqttPort: 0,
  httpPort: 0,
  log: () => undefined,
});
const { httpUrl, mqttUrl } = await svc.start();
const { priv, pub } = credentials();
svc.functions.register(priv);
svc.functions.setWhitelisted(priv, 'home', hash, true);
const call = { hash, export: 'add', args: [2, 3], namespace: 'home', token: pub };
const post = (body: unknown): Promise<Response> =>
  fetch(`${httpUrl}/api/functions/call`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer() }, body: JSON.stringify(body) });
// Warm calls go through node:http on one kept-alive connection, as a device or service calling steadily would:
// fetch's own per-request work (WHATWG streams and their garbage, in this same process) is not the server's.
const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
const { hostname, port } = new URL(httpUrl);
const warmPost = (body: unknown): Promise<number> =>
  new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = httpRequest(
      {
        agent,
        hostname,
        port,
        path: '/api/functions/call',
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });

// Cold: upload + compile + first call, measured once per run on a fresh copy of the module (new hash).
const cold: number[] = [];
for (let r = 0; r < RUNS; r++) {
  const variant = wat(KV_WAT.replace('(data (i32.const 0) "counter")', `(data (i32.const 0) "counter") (data (i32.const 200) "v${r}-${Date.now()}")`));
  const h = createHash('sha256').update(variant).digest('hex');
  svc.functions.setWhitelisted(priv, 'home', h, true);
  const t0 = performance.now();
  const first = await post({ ...call, hash: h });
  if (first.status !== 404) throw new Error(`expected module needed, got ${first.status}`);
  await fetch(`${httpUrl}/api/functions/modules?namespace=home`, {
    method: 'POST',
    headers: { 'content-type': 'application/wasm', authorization: `Bearer ${pub}` },
    body: new Uint8Array(variant),
  });
  const ok = await post({ ...call, hash: h });
  if (ok.status !== 200) throw new Error(`cold call failed: ${ok.status}`);
  cold.push(performance.now() - t0);
  bar.increment();
}
await fetch(`${httpUrl}/api/functions/modules?namespace=home`, {
  method: 'POST',
  headers: { 'content-type': 'application/wasm', authorization: `Bearer ${pub}` },
  body: new Uint8Array(module),
});

const http: number[] = [];
const httpP50: number[] = [];
const httpP99: number[] = [];
for (let i = 0; i < 200; i++) await warmPost(call);
for (let r = 0; r < RUNS; r++) {
  const lat: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t0 = performance.now();
    if ((await warmPost(call)) !== 200) throw new Error('a warm call failed');
    lat.push(performance.now() - t0);
  }
  httpP50.push(quantile(lat, 0.5));
  httpP99.push(quantile(lat, 0.99));
  http.push(...lat);
  bar.increment();
}

// Like every Ferry MQTT client: no Nagle.
const client = noDelay(await mqtt.connectAsync(mqttUrl, workerLogin(svc.mqttCredential)));
const waiting = new Map<number, () => void>();
client.on('message', (_t, p) => {
  const id = (JSON.parse(p.toString()) as { id: number }).id;
  waiting.get(id)?.();
  waiting.delete(id);
});
await client.subscribeAsync('ferry/fn/bench/res', { qos: 1 });
let id = 0;
const mqttCall = async (): Promise<void> => {
  const my = ++id;
  const done = new Promise<void>((r) => waiting.set(my, r));
  await client.publishAsync('ferry/fn/bench/call', JSON.stringify({ id: my, ...call }), { qos: 1 });
  await done;
};
for (let i = 0; i < 200; i++) await mqttCall();
const mqttP50: number[] = [];
const mqttP99: number[] = [];
for (let r = 0; r < RUNS; r++) {
  const lat: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t0 = performance.now();
    await mqttCall();
    lat.push(performance.now() - t0);
  }
  mqttP50.push(quantile(lat, 0.5));
  mqttP99.push(quantile(lat, 0.99));
  bar.increment();
}
await client.endAsync();
await svc.stop();
bar.stop();

const f = (ms: number): string => `${ms.toFixed(2)} ms`;
const figures = {
  in_process_calls_per_sec: Math.round(median(inProc)),
  http_warm_ms: { p50: Number(median(httpP50).toFixed(3)), p99: Number(median(httpP99).toFixed(3)) },
  mqtt_warm_ms: { p50: Number(median(mqttP50).toFixed(3)), p99: Number(median(mqttP99).toFixed(3)) },
  cold_call_ms: Number(median(cold).toFixed(2)),
};
console.log(`medians of ${RUNS} runs, ${CALLS} sequential warm calls per run; runner: worker pool (2) with a 1 s watchdog in the service`);
console.log(
  `  in-process (token, white-list, args, run): ${fmt(figures.in_process_calls_per_sec)} (goal >= 100k/s: ${figures.in_process_calls_per_sec >= 100_000 ? 'met' : 'missed'})`,
);
const p99 = (ms: number): string => `goal p99 < 5 ms: ${ms < 5 ? 'met' : 'missed'}`;
console.log(`  warm over HTTP: p50 ${f(figures.http_warm_ms.p50)}, p99 ${f(figures.http_warm_ms.p99)} (${p99(figures.http_warm_ms.p99)})`);
console.log(`  warm over MQTT: p50 ${f(figures.mqtt_warm_ms.p50)}, p99 ${f(figures.mqtt_warm_ms.p99)} (${p99(figures.mqtt_warm_ms.p99)})`);
console.log(`  cold call (module needed -> upload -> compile -> call): ${f(figures.cold_call_ms)}`);
console.log(JSON.stringify({ bench: 'functions', runs: RUNS, calls_per_run: CALLS, ...figures }));
