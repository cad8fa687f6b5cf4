/**
 * @module bench:ingest — verified+stored messages per second: the ingest pipeline alone (in-memory ports),
 * next to the bare HMAC-verify limit measured in the same run; and end to end over loopback MQTT into
 * the embedded cloud service (aedes in process, QoS 1, acknowledged after ingest).
 * Ends with one JSON line of the figures (medians of several runs).
 */
import { createHmac, createSecretKey } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { CloudService } from '@ferry/cloud';
import { Ingest } from '@ferry/cloud/ingest';
import { encode } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { fmt, median, measureInterleaved, progress } from './lib.ts';

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
      const r = encode({ header: { kid, ep: epoch, sq }, claims: { iss: kid, iat: 1767225600 + sq, ev: 'tel', d: { t: 20 + (sq % 50) / 10, n: 1, heat: sq % 7 === 0 } } }, key);
      if (!r.ok) throw r.error;
      out.push(new TextEncoder().encode(r.value));
    }
  }
  return out;
}

const bar = progress(RUNS * 2 + RUNS, 'bench:ingest');
// Pipeline alone: each run ingests a fresh epoch so nothing is a duplicate.
let epoch = 1;
const tokens = stream(epoch);
let ingest = new Ingest({ keys: () => key });
let i = 0;
const keyObject = createSecretKey(secret);
const figures = await measureInterleaved([
  {
    name: 'pipeline (verify, sequence, store, dispatch)',
    fn: () => {
      if (i === tokens.length) { ingest = new Ingest({ keys: () => key }); i = 0; }
      ingest.ingest(tokens[i++]!);
    },
  },
  {
    name: 'bare HMAC-SHA256 verify (createHmac)',
    fn: () => { const t = tokens[i % tokens.length]!; createHmac('sha256', keyObject).update(t.subarray(0, t.lastIndexOf(0x2e))).digest(); },
  },
], { runs: RUNS, bar });

// End to end: publish QoS 1 over loopback into the embedded service; count until all are accepted.
async function endToEnd(): Promise<number> {
  const svc = new CloudService({ dataDir: mkdtempSync(join(tmpdir(), 'ferry-bench-')), mqttPort: 0, httpPort: 0, log: () => undefined });
  const { mqttUrl } = await svc.start();
  for (let s = 0; s < SOURCES; s++) svc.devices.add(`dev-${s}`); // keys differ from `secret`: re-sign below
  const keys = new Map<string, ReturnType<typeof hmacKey>>();
  for (let s = 0; s < SOURCES; s++) keys.set(`dev-${s}`, svc.devices.keys(`dev-${s}`)!);
  const msgs: string[] = [];
  for (let sq = 0; sq < PER_SOURCE; sq++) for (let s = 0; s < SOURCES; s++) {
    const kid = `dev-${s}`;
    const r = encode({ header: { kid, ep: 1, sq }, claims: { iss: kid, iat: 1767225600 + sq, ev: 'tel', d: { t: 21.5 } } }, keys.get(kid)!);
    if (r.ok) msgs.push(r.value);
  }
  const pub = await mqtt.connectAsync(mqttUrl);
  const t0 = performance.now();
  // A window of unacknowledged publishes, as the gateway uplink keeps.
  let sent = 0;
  const inflight = new Set<Promise<unknown>>();
  while (sent < msgs.length) {
    const p = pub.publishAsync('ferry/up/bench/msg', msgs[sent++]!, { qos: 1 });
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    if (inflight.size >= 256) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  while (svc.ingest.counters().accepted < msgs.length) await new Promise((r) => setTimeout(r, 5));
  const seconds = (performance.now() - t0) / 1000;
  await pub.endAsync();
  await svc.stop();
  bar.increment();
  return msgs.length / seconds;
}
const e2e: number[] = [];
for (let r = 0; r < RUNS; r++) e2e.push(await endToEnd());
bar.stop();

const pipeline = figures[0]!.opsPerSec;
const bare = figures[1]!.opsPerSec;
const embedded = median(e2e);
console.log(`${SOURCES} sources x ${PER_SOURCE} messages; medians of ${RUNS} runs`);
console.log(`  ${figures[0]!.name.padEnd(46)} ${fmt(pipeline).padStart(10)}`);
console.log(`  ${figures[1]!.name.padEnd(46)} ${fmt(bare).padStart(10)}`);
console.log(`  ${'embedded end to end (MQTT QoS 1, loopback)'.padEnd(46)} ${fmt(embedded).padStart(10)}`);
console.log(`  pipeline at ${((pipeline / bare) * 100).toFixed(0)} % of the bare-HMAC limit (goal >= 50 %); embedded ${embedded >= 10_000 ? 'meets' : 'misses'} the 10k msg/s goal`);
console.log(JSON.stringify({
  bench: 'ingest', runs: RUNS, sources: SOURCES, per_source: PER_SOURCE,
  msgs_per_sec: { pipeline: Math.round(pipeline), bare_hmac_verify: Math.round(bare), embedded_end_to_end: Math.round(embedded) },
  ratios: { pipeline_vs_bare_hmac: Number((pipeline / bare).toFixed(3)) },
  redis_mode: 'not measured by this script yet (the service runs on Redis with --redis; e2e/scale-out.test.ts covers it)',
}));
