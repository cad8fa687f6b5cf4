/**
 * @module `npm run bench:actions`: commands to devices (docs/actions.md). 1. One command round trip, cloud
 * to a lightweight device over MQTT and back as a signed `cmd.ack` through ingest, until the command is
 * `acked` in the store: p50/p99, against a baseline measured in the same run, a plain MQTT request/reply
 * through the same embedded broker. 2. One broadcast to N devices (BENCH_DEVICES, default 10 000; fewer on a
 * small machine) held by a few child processes: time until 99 % and 100 % are acked, and the commands
 * lost and applied twice (both must be 0). Embedded cloud (aedes, SQLite). Ends with one JSON line.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { noDelay } from '@ferry/mqtt-rest';
import { CloudService } from '@ferry/cloud';
import { CommandDevice } from '@ferry/test-kit/command-device';
import { ADMIN_TOKEN, postAs, getAs } from '@ferry/test-kit/http';
import { workerLogin } from '@ferry/test-kit/mqtt-login';
import { median, progress } from './lib.ts';

const RUNS = 5;
const TRIPS = 200;
const DEVICES = Number(process.env['BENCH_DEVICES'] ?? 10_000);
const CHILDREN = 4;
const BROADCASTS = 3;

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

const svc = new CloudService({
  dataDir: mkdtempSync(join(tmpdir(), 'ferry-bench-actions-')),
  mqttPort: 0,
  httpPort: 0,
  adminToken: ADMIN_TOKEN,
  functionRunner: 'in-process',
  log: () => undefined,
  deviceRate: false,
  mqttLimits: { publishesPerSecond: 1_000_000, publishBurst: 1_000_000 },
  commands: { perSecond: 1_000_000, burst: 1_000_000, broadcastsPerMinute: 1000, depth: 1000 },
});
const { mqttUrl, httpUrl } = await svc.start();

// Acks released by ingest, by command id: the round trip ends when the store has the command acked.
const acked = new Map<string, () => void>();
let ackedCount = 0;
svc.ingest.subscribe((e) => {
  if (e.type !== 'message' || e.message.claims['ev'] !== 'cmd.ack') return;
  ackedCount++;
  const id = (e.message.claims['d'] as { id?: string } | undefined)?.id;
  if (id !== undefined) acked.get(id)?.();
});
const whenAcked = (id: string): Promise<void> =>
  new Promise((resolve) => {
    acked.set(id, () => {
      acked.delete(id);
      const check = (): void => {
        void svc.commands.service.get(id).then((r) => (r?.state === 'acked' ? resolve() : setImmediate(check)));
      };
      check();
    });
  });

// 1. Round trip, interleaved with the baseline.
const key = svc.devices.add('bench-th', 'bench', Date.now()).key;
const dev = await CommandDevice.connect({ url: mqttUrl, id: 'bench-th', key });
// Both sides with noDelay, as the cloud's own connections and the devices have.
const responder = noDelay(await mqtt.connectAsync(mqttUrl, { ...workerLogin(svc.mqttCredential), protocolVersion: 4 }));
const asker = noDelay(await mqtt.connectAsync(mqttUrl, { ...workerLogin(svc.mqttCredential), protocolVersion: 4 }));
await responder.subscribeAsync('ferry/bench/req', { qos: 1 });
responder.on('message', (_t, p) => void responder.publishAsync('ferry/bench/res', p, { qos: 1 }));
await asker.subscribeAsync('ferry/bench/res', { qos: 1 });
const waiting = new Map<string, () => void>();
asker.on('message', (_t, p) => waiting.get(p.toString())?.());
const baselineTrip = async (i: number): Promise<void> => {
  const id = `r${i}`;
  const got = new Promise<void>((r) => waiting.set(id, r));
  await asker.publishAsync('ferry/bench/req', id, { qos: 1 });
  await got;
  waiting.delete(id);
};
const commandTrip = async (i: number): Promise<void> => {
  const r = await svc.commands.service.enqueue({ device: 'bench-th', command: { setpoint: 20 + (i % 5) }, source: 'bench' });
  await whenAcked(r.id);
};
const cmdP50: number[] = [];
const cmdP99: number[] = [];
const baseP50: number[] = [];
const baseP99: number[] = [];
const bar = progress(RUNS * 2 + BROADCASTS, 'actions');
for (let run = 0; run < RUNS; run++) {
  for (const [trip, p50, p99] of [
    [baselineTrip, baseP50, baseP99],
    [commandTrip, cmdP50, cmdP99],
  ] as const) {
    const lat: number[] = [];
    for (let i = 0; i < TRIPS; i++) {
      const t0 = performance.now();
      await trip(run * TRIPS + i);
      lat.push(performance.now() - t0);
    }
    p50.push(quantile(lat, 0.5));
    p99.push(quantile(lat, 0.99));
    bar.increment();
  }
}
const tripsApplied = [...dev.applied.values()];
await dev.close();
await responder.endAsync();
await asker.endAsync();

// 2. Broadcast to DEVICES devices in CHILDREN processes.
const devices: [string, string][] = [];
for (let i = 0; i < DEVICES; i++) devices.push([`bd-${i}`, svc.devices.add(`bd-${i}`, 'fleet', Date.now()).key]);
const children: ChildProcess[] = [];
const ask = <T>(c: ChildProcess, m: unknown): Promise<T> =>
  new Promise((resolve) => {
    c.once('message', (x) => resolve(x as T));
    c.send(m as object);
  });
await Promise.all(
  Array.from({ length: CHILDREN }, async (_, k) => {
    const c = fork(join(import.meta.dirname, 'actions-devices.ts'), [], { execArgv: ['--import', 'tsx'] });
    children.push(c);
    await ask(c, { url: mqttUrl, devices: devices.filter((_, i) => i % CHILDREN === k) });
  }),
);
const t99: number[] = [];
const t100: number[] = [];
let lost = 0;
for (let b = 0; b < BROADCASTS; b++) {
  const before = ackedCount;
  const t0 = performance.now();
  const r = await postAs(`${httpUrl}/api/v1/broadcasts`, { target: { namespace: 'fleet' }, command: { setpoint: 21 + b } });
  const { id, devices: n } = (await r.json()) as { id: string; devices: number };
  let at99 = 0;
  const end = Date.now() + 120_000;
  while (ackedCount - before < n && Date.now() < end) {
    if (at99 === 0 && ackedCount - before >= 0.99 * n) at99 = performance.now() - t0;
    await new Promise((res) => setTimeout(res, 2));
  }
  if (at99 === 0) at99 = performance.now() - t0;
  t99.push(at99);
  t100.push(performance.now() - t0);
  await new Promise((res) => setTimeout(res, 200)); // the last acks reach the store
  const st = (await (await getAs(`${httpUrl}/api/v1/broadcasts/${id}`)).json()) as { counts: Record<string, number> };
  lost += n - (st.counts['acked'] ?? 0);
  bar.increment();
}
let applied = 0;
let twice = tripsApplied.filter((x) => x > 1).length;
for (const c of children) {
  const rep = await ask<{ applied: number; twice: number }>(c, { report: true });
  applied += rep.applied;
  twice += rep.twice;
  c.send({ stop: true });
}
bar.stop();
await svc.stop();

const ms = (x: number): number => Number(x.toFixed(2));
const figures = {
  round_trip_ms: { p50: ms(median(cmdP50)), p99: ms(median(cmdP99)) },
  baseline_mqtt_request_reply_ms: { p50: ms(median(baseP50)), p99: ms(median(baseP99)) },
  round_trip_vs_baseline_p50: Number((median(cmdP50) / median(baseP50)).toFixed(2)),
  broadcast_devices: DEVICES,
  broadcast_99pct_acked_ms: Math.round(median(t99)),
  broadcast_all_acked_ms: Math.round(median(t100)),
  applied: applied,
  lost,
  applied_twice: twice,
};
console.log(
  `medians of ${RUNS} runs of ${TRIPS} sequential round trips, and of ${BROADCASTS} broadcasts to ${DEVICES} devices in ${CHILDREN} processes (embedded cloud)`,
);
console.log(
  `  command round trip (enqueue -> signed cmd -> device verifies -> signed cmd.ack -> ingest -> acked): p50 ${figures.round_trip_ms.p50} ms, p99 ${figures.round_trip_ms.p99} ms (goal p99 <= 20 ms: ${figures.round_trip_ms.p99 <= 20 ? 'met' : 'missed'})`,
);
console.log(
  `  baseline, plain MQTT request/reply through the same broker: p50 ${figures.baseline_mqtt_request_reply_ms.p50} ms, p99 ${figures.baseline_mqtt_request_reply_ms.p99} ms`,
);
console.log(
  `  broadcast to ${DEVICES}: 99 % acked in ${figures.broadcast_99pct_acked_ms} ms, all in ${figures.broadcast_all_acked_ms} ms (goal 99 % <= 10 s for 10 000)`,
);
console.log(`  applied ${applied} (${BROADCASTS} x ${DEVICES}), lost ${lost}, applied twice ${twice} (both must be 0)`);
console.log(JSON.stringify({ bench: 'actions', runs: RUNS, trips_per_run: TRIPS, broadcasts: BROADCASTS, ...figures }));
process.exit(0);
