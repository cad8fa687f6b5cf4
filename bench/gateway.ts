/**
 * @module bench:gateway — the gateway's figures, all in one run on this machine:
 *  1. events/s through decode -> rule -> publish: real BTHome v2 service data (the test vectors, plain and
 *     AES-CCM encrypted) decoded by our decoder, turned into readings, through a single-filter rule
 *     (temperature > 25.06: exactly half pass) in a RulesHost, outputs published with QoS 1 to an MQTT broker,
 *     counted at a subscriber (a worker thread, as the cloud would be: its MQTT work is charged to no side);
 *     timed from the first advert until the subscriber has every passing output. Measured as the rule path
 *     alone ("ours"); the same with the RulesHost replay buffer never trimmed (a diagnostic of the
 *     buffer's cost; it used to be trimmed with splice per input, now in batches); and the whole GatewayDaemon (each reading and
 *     each output signed and committed to the SQLite outbox, synchronous=NORMAL, drained by the QoS 1 uplink).
 *  2. the same filter in Node-RED on the same broker, interleaved run by run with (1): mqtt in -> json ->
 *     switch -> mqtt out. Node-RED is fed the readings as decoded JSON (it has no BTHome decoder), produced
 *     before the clock starts, which favours it. Installed once with npm into .build/bench-node-red
 *     (git-ignored, kept between runs); when it cannot be installed its figures are null.
 *  3. store-and-forward replay: an outbox filled while the broker is down, then drained to empty by an
 *     Uplink once the broker is back (msgs/s), and bytes on disk per buffered message (database + WAL),
 *     at the default synchronous=FULL (fsync per commit) and at NORMAL.
 *  4. time to move a running windowed aggregation (with state) between two RulesHosts over their HTTP APIs
 *     on loopback: POST /api/move from request to response, back and forth.
 * Progress goes to stderr; the last line of stdout is one JSON object with all figures.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import Fastify, { type FastifyInstance } from 'fastify';
import mqtt, { type MqttClient } from 'mqtt';
import { RulesHost, rulesRoutes } from '@ferry/rules-host';
import { aedesBroker, mosquittoAvailable, mosquittoBroker, type MosquittoOptions, type TestBroker } from '@ferry/test-kit/brokers';
import { freePort } from '@ferry/test-kit/ports';
import { decodeBthome, parseHex, type BthomeAdvert } from '@ferry/gateway/decoders';
import { toReading } from '../gateway/src/bthome/advert.ts';
import { GatewayConfigSchema } from '../gateway/src/daemon/config.ts';
import { GatewayDaemon, topicSegment } from '../gateway/src/daemon/daemon.ts';
import { GatewaySigner } from '../gateway/src/daemon/signer.ts';
import { ENCRYPTED_VECTORS, PLAIN_VECTORS, type BthomeVector } from '../gateway/src/bthome/fixtures/vectors.ts';
import type { Reading } from '../gateway/src/sources/types.ts';
import { Outbox } from '../gateway/src/uplink/outbox.ts';
import { Uplink } from '../gateway/src/uplink/uplink.ts';
import { median, progress } from './lib.ts';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 7);
const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 20_000);
/** The whole daemon is slower (SQLite per message): fewer events per run keep the bench short; rates are per event. */
const DAEMON_EVENTS = Number(process.env['BENCH_DAEMON_EVENTS'] ?? Math.round(EVENTS / 4));
const REPLAY_NORMAL = Number(process.env['BENCH_REPLAY'] ?? 10_000);
const REPLAY_FULL = Number(process.env['BENCH_REPLAY_FULL'] ?? 1_500);
const REPLAY_RUNS = 3;
const MOVES = Number(process.env['BENCH_MOVES'] ?? 10);
const THRESHOLD = 25.06;
const GW = 'bench-gw';
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NODE_RED_DIR = process.env['BENCH_NODE_RED_DIR'] ?? join(ROOT, '.build', 'bench-node-red');
const NODE_RED_VERSION = '4';
const OUT = {
  ours: 'ferry/bench/out/ours',
  untrimmed: 'ferry/bench/out/untrimmed',
  daemon: 'ferry/bench/out/daemon',
  nodered: 'ferry/bench/out/nodered',
} as const;
const NODE_RED_IN = 'ferry/bench/nr-in';

// ---------------------------------------------------------------------------------------------------------
// Cleanup: everything started registers its undo here; run on success, error and SIGINT/SIGTERM. Child
// processes are also killed synchronously on exit, whatever happens.
const cleanups: { name: string; fn: () => unknown }[] = [];
const children = new Set<ChildProcess>();
const tmp = mkdtempSync(join(tmpdir(), 'ferry-bench-gw-'));
const defer = (name: string, fn: () => unknown): void => {
  cleanups.push({ name, fn });
};
async function cleanup(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await Promise.race([c.fn(), sleep(5000)]);
    } catch (e) {
      process.stderr.write(`cleanup ${c.name}: ${(e as Error).message}\n`);
    }
  }
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
}
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    void cleanup().finally(() => process.exit(130));
  });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const yieldNow = (): Promise<void> => new Promise((r) => setImmediate(r));
const log = (s: string): void => {
  process.stderr.write(`${s}\n`);
};

function track(p: ChildProcess): ChildProcess {
  children.add(p);
  p.once('exit', () => children.delete(p));
  return p;
}

async function stopChild(p: ChildProcess, graceMs = 3000): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  if (await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)])) return;
  p.kill('SIGKILL');
  await exited;
}

// ---------------------------------------------------------------------------------------------------------
// Brokers: Mosquitto (a child process, so the broker does not share a core's event loop with either side)
// when installed, else aedes in process. Unlimited queues and in-flight windows: the defaults (1000 queued
// QoS 1 messages per client) would drop messages under a burst, and the figures count every output.
const MOSQUITTO: MosquittoOptions = {
  settings: { max_queued_messages: 0, max_inflight_messages: 0, set_tcp_nodelay: true, log_dest: 'none' },
  dir: tmp,
  graceMs: 1000,
  onSpawn: track,
};

async function broker(name: string): Promise<TestBroker> {
  const b = mosquittoAvailable() ? await mosquittoBroker(MOSQUITTO) : await aedesBroker();
  defer(`broker ${name}`, () => b.stop());
  return b;
}

// ---------------------------------------------------------------------------------------------------------
// The events: BTHome service data from the vectors that carry a temperature; four at or below the
// threshold, four above, so exactly half pass. Encrypted ones are decrypted (AES-CCM) on every decode.
const PICK: readonly (readonly [string, boolean])[] = [
  ['test_bthome_temperature_humidity', false], // 25.06
  ['test_bthome_packet_id_temperature_humidity_battery', false], // 23.97
  ['test_bthome_double_temperature', false], // 25.06, 25.11 (temperature, temperature_2)
  ['test_bindkey_correct (= SPEC example)', false], // encrypted, 25.06
  ['test_bthome_temperature_2', true], // 0x45: 27.3
  ['test_shelly_blu_ht_display_zb', true], // 27.8
  ['test_reset_encryption_counter #1', true], // encrypted, 25.07
  ['test_reset_encryption_counter #2', true], // encrypted, 25.07
];
interface Advert {
  readonly test: string;
  readonly bytes: Uint8Array;
  readonly key: Uint8Array | undefined;
  readonly mac: string | undefined;
  readonly device: string;
}
const vectors: readonly BthomeVector[] = [...PLAIN_VECTORS, ...ENCRYPTED_VECTORS];
const hexBytes = (h: string): Uint8Array => {
  const r = parseHex(h);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};
const DEVICES = 50;
const adverts: Advert[] = [];
for (let d = 0; d < DEVICES; d++) {
  for (const [test] of PICK) {
    const v = vectors.find((x) => x.test === test);
    if (v === undefined) throw new Error(`vector ${test} not found`);
    // Encrypted adverts keep the vector's MAC (it is in the nonce); plain ones come from DEVICES sensors.
    const device = v.mac ?? `A4:C1:38:00:00:${d.toString(16).padStart(2, '0').toUpperCase()}`;
    adverts.push({ test, bytes: hexBytes(v.hex), key: v.key === undefined ? undefined : hexBytes(v.key), mac: v.mac, device });
  }
}
const decodeOne = (a: Advert): BthomeAdvert => {
  const r = decodeBthome(a.bytes, { key: a.key, mac: a.mac });
  if (!r.ok) throw new Error(`${a.test}: ${r.error.message}`);
  return r.value;
};
// The records the rule sees, built once for Node-RED's input and to count the expected outputs.
const recordOf = (r: Reading): Record<string, unknown> => ({ device: r.device, kind: r.kind, ...r.values });
const sampleRecords = adverts.map((a) => recordOf(toReading(a.device, decodeOne(a), 0, -60)));
const passes = (rec: Record<string, unknown>): boolean => typeof rec['temperature'] === 'number' && rec['temperature'] > THRESHOLD;
const passing = (n: number): number => Array.from({ length: n }, (_, i) => passes(sampleRecords[i % sampleRecords.length]!)).filter(Boolean).length;
const expectedOutputs = passing(EVENTS);
const expectedDaemon = passing(DAEMON_EVENTS);
for (const [k, [test, pass]] of PICK.entries()) {
  if (passes(sampleRecords[k]!) !== pass)
    throw new Error(`vector ${test}: temperature ${String(sampleRecords[k]!['temperature'])} does not ${pass ? 'pass' : 'fail'} > ${THRESHOLD}`);
}

const singleFilter = (runtime: string, input: string, output: string) => ({
  headers: { runtime, targetResource: 'bench', jobType: 'single-filter' },
  jobConfig: { connectors: { input, output }, jobProps: { condition: 'gt', threshold: THRESHOLD, fieldName: 'temperature' } },
});

// ---------------------------------------------------------------------------------------------------------
// Subscriber: counts outputs per topic in a worker thread, so its MQTT work (receive + PUBACK of every output)
// runs on its own event loop as the cloud would, and is charged neither to our pipeline nor to Node-RED's
// feeder. Readiness probes (payload naming "probe") are reported separately.
const SUBSCRIBER_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const mqtt = require(workerData.mqtt);
const counts = new Map();
let waiters = [];
const probe = Buffer.from('"probe"');
const client = mqtt.connect(workerData.url, { clientId: 'bench-subscriber', clean: true });
client.on('error', (e) => parentPort.postMessage({ type: 'error', message: e.message }));
client.once('connect', () => client.subscribe(workerData.filter, { qos: 1 }, (e) => parentPort.postMessage(e ? { type: 'error', message: e.message } : { type: 'ready' })));
client.on('message', (topic, payload) => {
  if (payload.indexOf(probe) >= 0) { parentPort.postMessage({ type: 'probe' }); return; }
  const n = (counts.get(topic) || 0) + 1;
  counts.set(topic, n);
  if (waiters.length > 0) waiters = waiters.filter((w) => (w.topic === topic && n >= w.n ? (parentPort.postMessage({ type: 'reached', id: w.id }), false) : true));
});
parentPort.on('message', (m) => {
  const n = counts.get(m.topic) || 0;
  if (m.type === 'count') parentPort.postMessage({ type: 'count', id: m.id, n });
  else if (m.type === 'reach') { if (n >= m.n) parentPort.postMessage({ type: 'reached', id: m.id }); else waiters.push(m); }
  else if (m.type === 'stop') client.end(true, () => process.exit(0));
});
`;
class Counter {
  private readonly worker: Worker;
  private readonly pending = new Map<number, (n: number) => void>();
  private nextId = 0;
  private failure: Error | undefined;
  probes = 0;
  private constructor(worker: Worker) {
    this.worker = worker;
  }
  static async start(url: string): Promise<Counter> {
    const worker = new Worker(SUBSCRIBER_WORKER, {
      eval: true,
      workerData: { url, filter: 'ferry/bench/out/#', mqtt: createRequire(import.meta.url).resolve('mqtt') },
    });
    const c = new Counter(worker);
    defer('subscriber', () => c.stop());
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (m: { type: string; id?: number; n?: number; message?: string }) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'probe') c.probes++;
        else if (m.type === 'error') {
          c.failure = new Error(`subscriber: ${m.message ?? ''}`);
          reject(c.failure);
        } else if (m.id !== undefined) {
          c.pending.get(m.id)?.(m.n ?? 0);
          c.pending.delete(m.id);
        }
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`subscriber worker exited with ${code}`)));
    });
    return c;
  }
  private ask(msg: Record<string, unknown>, timeoutMs = 10_000, what = ''): Promise<number> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.pending.delete(id);
        void this.count(String(msg['topic'])).then((n) => reject(new Error(`${what}: ${n} of ${String(msg['n'])} outputs after ${timeoutMs} ms`)), reject);
      }, timeoutMs);
      this.pending.set(id, (n) => {
        clearTimeout(t);
        resolve(n);
      });
      this.worker.postMessage({ ...msg, id });
    });
  }
  count(topic: string): Promise<number> {
    return this.ask({ type: 'count', topic });
  }
  /** Resolves when `topic` has seen `n` messages in total. */
  async reach(topic: string, n: number, timeoutMs: number): Promise<void> {
    await this.ask({ type: 'reach', topic, n }, timeoutMs, topic);
  }
  async stop(): Promise<void> {
    const exited = new Promise<void>((r) => this.worker.once('exit', () => r()));
    this.worker.postMessage({ type: 'stop' });
    if (!(await Promise.race([exited.then(() => true), sleep(2000).then(() => false)]))) await this.worker.terminate();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Node-RED: installed once into .build/bench-node-red, started headless with a flow written here.
function nodeRedFlow(port: number): unknown[] {
  const tab = 'b0e1f2a3c4d5e6f7';
  const brokerId = 'b1e1f2a3c4d5e6f7';
  return [
    { id: tab, type: 'tab', label: 'bench:gateway', disabled: false, info: '' },
    {
      id: brokerId,
      type: 'mqtt-broker',
      name: 'bench',
      broker: '127.0.0.1',
      port: String(port),
      clientid: 'bench-node-red',
      autoConnect: true,
      usetls: false,
      protocolVersion: '4',
      keepalive: '60',
      cleansession: true,
      autoUnsubscribe: true,
      birthTopic: '',
      closeTopic: '',
      willTopic: '',
    },
    {
      id: 'n1',
      type: 'mqtt in',
      z: tab,
      name: 'readings',
      topic: `${NODE_RED_IN}/+`,
      qos: '1',
      datatype: 'utf8',
      broker: brokerId,
      nl: false,
      rap: true,
      rh: 0,
      inputs: 0,
      x: 100,
      y: 100,
      wires: [['n2']],
    },
    { id: 'n2', type: 'json', z: tab, name: '', property: 'payload', action: 'obj', pretty: false, x: 250, y: 100, wires: [['n3']] },
    {
      id: 'n3',
      type: 'switch',
      z: tab,
      name: `temperature > ${THRESHOLD}`,
      property: 'payload.temperature',
      propertyType: 'msg',
      rules: [{ t: 'gt', v: String(THRESHOLD), vt: 'num' }],
      checkall: 'true',
      repair: false,
      outputs: 1,
      x: 400,
      y: 100,
      wires: [['n4']],
    },
    {
      id: 'n4',
      type: 'mqtt out',
      z: tab,
      name: 'alerts',
      topic: OUT.nodered,
      qos: '1',
      retain: 'false',
      respTopic: '',
      contentType: '',
      userProps: '',
      correl: '',
      expiry: '',
      broker: brokerId,
      x: 550,
      y: 100,
      wires: [],
    },
  ];
}

function installNodeRed(): { red: string; version: string } | { error: string } {
  const red = join(NODE_RED_DIR, 'node_modules', 'node-red', 'red.js');
  if (!existsSync(red)) {
    mkdirSync(NODE_RED_DIR, { recursive: true });
    log(`installing node-red@${NODE_RED_VERSION} into ${NODE_RED_DIR} (once; kept between runs)...`);
    // --ignore-scripts: no native bcrypt build (Node-RED falls back to bcryptjs; no admin auth is used).
    const r = spawnSync(
      'npm',
      ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--no-save', '--prefix', NODE_RED_DIR, `node-red@${NODE_RED_VERSION}`],
      { encoding: 'utf8', timeout: 300_000 },
    );
    if (r.status !== 0 || !existsSync(red)) {
      const lines = (r.stderr ?? '').split('\n').filter((l) => /npm error/.test(l) && !/complete log|proxy/.test(l) && l.trim() !== 'npm error');
      return { error: `npm install node-red@${NODE_RED_VERSION} failed (${r.error?.message ?? `exit ${String(r.status)}`}): ${lines.slice(0, 2).join(' | ')}` };
    }
  }
  const version = (JSON.parse(readFileSync(join(NODE_RED_DIR, 'node_modules', 'node-red', 'package.json'), 'utf8')) as { version: string }).version;
  return { red, version };
}

async function startNodeRed(red: string, b: TestBroker, counter: Counter, pub: MqttClient): Promise<{ proc: ChildProcess; startupMs: number }> {
  const userDir = join(tmp, 'node-red');
  mkdirSync(userDir, { recursive: true });
  const port = Number(new URL(b.url).port);
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(nodeRedFlow(port), null, 2));
  const uiPort = await freePort();
  const settings = join(userDir, 'settings.js');
  writeFileSync(
    settings,
    `module.exports = ${JSON.stringify(
      {
        uiHost: '127.0.0.1',
        uiPort,
        httpAdminRoot: false,
        httpNodeRoot: false,
        userDir,
        flowFile: 'flows.json',
        credentialSecret: false,
        logging: { console: { level: 'info', metrics: false, audit: false } },
        telemetry: { enabled: false, updateNotification: false },
        externalModules: { autoInstall: false, palette: { allowInstall: false }, modules: { allowInstall: false } },
      },
      null,
      2,
    )};\n`,
  );
  const logFile = join(userDir, 'node-red.log');
  const fd = openSync(logFile, 'a');
  const t0 = performance.now();
  const proc = track(
    spawn(process.execPath, [red, '--settings', settings, '--userDir', userDir], {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, NODE_RED_DISABLE_TELEMETRY: '1' },
    }),
  );
  closeSync(fd);
  defer('node-red', () => stopChild(proc));
  // Ready when a probe (above the threshold) comes out of the switch: broker connected, subscribed, flow running.
  const until = Date.now() + 90_000;
  const before = counter.probes;
  while (counter.probes === before) {
    if (proc.exitCode !== null) throw new Error(`node-red exited with ${proc.exitCode}: ${readFileSync(logFile, 'utf8').split('\n').slice(-8).join(' | ')}`);
    if (Date.now() > until) throw new Error(`node-red not ready after 90 s: ${readFileSync(logFile, 'utf8').split('\n').slice(-8).join(' | ')}`);
    pub.publish(`${NODE_RED_IN}/probe`, JSON.stringify({ device: 'probe', kind: 'probe', temperature: 1000 }), { qos: 1 });
    await sleep(200);
  }
  const startupMs = performance.now() - t0;
  await sleep(300); // let late probe outputs arrive before counting starts
  return { proc, startupMs };
}

// ---------------------------------------------------------------------------------------------------------
async function main(): Promise<Record<string, unknown>> {
  const shared = await broker('shared');
  log(`broker: ${shared.kind} at ${shared.url}; ${EVENTS} events per run (${expectedOutputs} pass), ${RUNS} runs, interleaved`);
  const counter = await Counter.start(shared.url);
  // Outputs expected so far on each topic (cumulative: a run is done when its topic reaches the total).
  const totals = new Map<string, number>();
  const expectMore = (topic: string, n: number): number => {
    const t = (totals.get(topic) ?? 0) + n;
    totals.set(topic, t);
    return t;
  };

  // (1a) ours: decode -> RulesHost (single-filter) -> MQTT QoS 1, in this process.
  const ourPub = await mqtt.connectAsync(shared.url, { clientId: 'bench-ours', clean: true });
  defer('ours publisher', () => ourPub.endAsync(true));
  const ruleHost = (output: string, replayBuffer?: number): RulesHost => {
    const h = new RulesHost({
      runtime: `gateway:${GW}`,
      publish: (topic, payload) => {
        ourPub.publish(topic, JSON.stringify(payload), { qos: 1 });
      },
      ...(replayBuffer !== undefined && { replayBuffer }),
    });
    h.engine.start(h.engine.install(singleFilter(`gateway:${GW}`, `ferry/up/${GW}/bthome/+`, output)).jobId);
    return h;
  };
  // As the daemon runs it (default replay buffer of 20,000 inputs, kept across runs: the steady state) ...
  const oursHost = ruleHost(OUT.ours);
  // ... and, as a diagnostic, with a replay buffer too large to be trimmed during the bench: RulesHost.input
  // trims its buffer with splice(0, 1) on every input once full, an O(buffer) copy that dominates the path.
  const untrimmedHost = ruleHost(OUT.untrimmed, Number.MAX_SAFE_INTEGER);
  let seq = 0;
  async function ours(host: RulesHost, output: string): Promise<number> {
    const done = counter.reach(output, expectMore(output, expectedOutputs), 120_000);
    const t0 = performance.now();
    for (let i = 0; i < EVENTS; i++) {
      const a = adverts[i % adverts.length]!;
      const atMs = Date.now();
      const r = toReading(a.device, decodeOne(a), atMs, -60);
      // As the daemon does: the reading's record and input id (kid/epoch/seq) into the rules host.
      host.input(`ferry/up/${GW}/bthome/${topicSegment(r.device)}`, recordOf(r), atMs, `${GW}/1/${seq++}`);
      if ((i & 255) === 255) await yieldNow(); // let the socket write and the subscriber read, as a live gateway would
    }
    await done;
    return EVENTS / ((performance.now() - t0) / 1000);
  }

  // (1b) ours, the whole daemon: sign + outbox (SQLite, synchronous NORMAL) + rules + QoS 1 uplink drain.
  const key = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
  const cfg = GatewayConfigSchema.parse({
    gateway: { id: GW, key, data_dir: join(tmp, 'daemon') },
    uplink: { url: shared.url, topic_prefix: 'ferrybench', buffer: { synchronous: 'NORMAL' } },
    api: { host: '127.0.0.1', port: 0 },
    ble: { enabled: false },
    rules: [singleFilter(`gateway:${GW}`, `ferrybench/up/${GW}/bthome/+`, OUT.daemon)],
  });
  let daemonProblems = 0;
  const daemon = new GatewayDaemon(cfg, {
    sources: [],
    log: (level) => {
      if (level !== 'info') daemonProblems++;
    },
  });
  defer('daemon', () => daemon.stop());
  await daemon.start();
  for (let i = 0; i < 200 && !daemon.uplink.connected; i++) await sleep(10);
  async function viaDaemon(): Promise<number> {
    const done = counter.reach(OUT.daemon, expectMore(OUT.daemon, expectedDaemon), 300_000);
    const t0 = performance.now();
    for (let i = 0; i < DAEMON_EVENTS; i++) {
      const a = adverts[i % adverts.length]!;
      daemon.sink.reading(toReading(a.device, decodeOne(a), Date.now(), -60));
      if ((i & 255) === 255) await yieldNow();
    }
    await done;
    return DAEMON_EVENTS / ((performance.now() - t0) / 1000);
  }

  // (2) Node-RED on the same broker.
  let nodeRed: { version: string; startupMs: number } | { error: string };
  const nrPub = await mqtt.connectAsync(shared.url, { clientId: 'bench-nr-feed', clean: true });
  defer('node-red publisher', () => nrPub.endAsync(true));
  const nrPayloads = Array.from({ length: EVENTS }, (_, i) => {
    const rec = sampleRecords[i % sampleRecords.length]!;
    return { topic: `${NODE_RED_IN}/${topicSegment(String(rec['device']))}`, payload: JSON.stringify(rec) };
  });
  const inst = installNodeRed();
  if ('error' in inst) {
    nodeRed = inst;
    log(`Node-RED unavailable: ${inst.error}`);
  } else {
    try {
      const started = await startNodeRed(inst.red, shared, counter, nrPub);
      nodeRed = { version: inst.version, startupMs: started.startupMs };
      log(`Node-RED ${inst.version} ready after ${(started.startupMs / 1000).toFixed(1)} s`);
    } catch (e) {
      nodeRed = { error: (e as Error).message };
      log(`Node-RED did not start: ${nodeRed.error}`);
    }
  }
  async function viaNodeRed(): Promise<number> {
    const done = counter.reach(OUT.nodered, expectMore(OUT.nodered, expectedOutputs), 300_000);
    const t0 = performance.now();
    for (let i = 0; i < EVENTS; i++) {
      const m = nrPayloads[i]!;
      nrPub.publish(m.topic, m.payload, { qos: 1 });
      if ((i & 255) === 255) await yieldNow();
    }
    await done;
    return EVENTS / ((performance.now() - t0) / 1000);
  }

  const nrOk = !('error' in nodeRed);
  const paths = nrOk ? 4 : 3;
  const bar = progress((RUNS + 1) * paths + REPLAY_RUNS * 2 + 1, 'bench:gateway');
  const rates = { ours: [] as number[], untrimmed: [] as number[], daemon: [] as number[], nodered: [] as number[] };
  // Warm-up (not counted): one run of each, so V8 (and Node-RED's) have optimised the paths before timing.
  await ours(oursHost, OUT.ours);
  bar.increment();
  await ours(untrimmedHost, OUT.untrimmed);
  bar.increment();
  await viaDaemon();
  bar.increment();
  if (nrOk) {
    await viaNodeRed();
    bar.increment();
  }
  for (let r = 0; r < RUNS; r++) {
    rates.ours.push(await ours(oursHost, OUT.ours));
    bar.increment();
    rates.untrimmed.push(await ours(untrimmedHost, OUT.untrimmed));
    bar.increment();
    rates.daemon.push(await viaDaemon());
    bar.increment();
    if (nrOk) {
      rates.nodered.push(await viaNodeRed());
      bar.increment();
    }
  }
  await sleep(300);
  const exact = {
    ours: (await counter.count(OUT.ours)) === (RUNS + 1) * expectedOutputs,
    untrimmed: (await counter.count(OUT.untrimmed)) === (RUNS + 1) * expectedOutputs,
    daemon: (await counter.count(OUT.daemon)) === (RUNS + 1) * expectedDaemon,
    nodered: nrOk ? (await counter.count(OUT.nodered)) === (RUNS + 1) * expectedOutputs : null,
  };

  // (3) Store-and-forward replay.
  interface Replay {
    rate: number;
    bytesPerMsg: number;
    payloadPerMsg: number;
  }
  async function replay(synchronous: 'FULL' | 'NORMAL', n: number): Promise<Replay> {
    const b = await broker(`replay-${synchronous}-${Math.random().toString(36).slice(2, 8)}`);
    await b.stop(); // the outage
    const dir = mkdtempSync(join(tmp, 'outbox-'));
    const outbox = new Outbox({ path: join(dir, 'outbox.db'), synchronous });
    const uplink = new Uplink({ url: b.url, gatewayId: `${GW}-replay`, outbox, reconnectMs: 50 });
    try {
      // Signed readings as the daemon buffers them, committed through the uplink while it cannot connect.
      const signer = new GatewaySigner(GW, Buffer.from(key, 'hex'), 1);
      for (let i = 0; i < n; i++) {
        const a = adverts[i % adverts.length]!;
        const rd = toReading(a.device, decodeOne(a), Date.now(), -60);
        const data = { device: rd.device, kind: rd.kind, ...rd.values, meta: { ...rd.meta } };
        uplink.send(`ferry/up/${GW}/bthome/${topicSegment(rd.device)}`, new TextEncoder().encode(signer.sign('reading', data, rd.atMs)));
      }
      if (outbox.stats().rows !== n) throw new Error(`outbox holds ${outbox.stats().rows} of ${n}`);
      const size = (f: string): number => (existsSync(f) ? statSync(f).size : 0);
      const file = join(dir, 'outbox.db');
      const bytesPerMsg = (size(file) + size(`${file}-wal`) + size(`${file}-shm`)) / n;
      const payloadPerMsg = outbox.stats().bytes / n;
      await b.start();
      while (!uplink.connected) await new Promise((r) => setTimeout(r, 1));
      const t0 = performance.now();
      while (outbox.stats().rows > 0) await new Promise((r) => setTimeout(r, 1));
      const rate = n / ((performance.now() - t0) / 1000);
      return { rate, bytesPerMsg, payloadPerMsg };
    } finally {
      await uplink.close().catch(() => undefined);
      outbox.close();
      await b.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const replayRuns = { NORMAL: [] as Replay[], FULL: [] as Replay[] };
  for (let r = 0; r < REPLAY_RUNS; r++) {
    replayRuns.NORMAL.push(await replay('NORMAL', REPLAY_NORMAL));
    bar.increment();
    replayRuns.FULL.push(await replay('FULL', REPLAY_FULL));
    bar.increment();
  }

  // (4) Moving a running windowed aggregation between two hosts over HTTP.
  const hosts: { host: RulesHost; url: string; app: FastifyInstance }[] = [];
  let relocationBytes = 0; // the largest /api/move body: the relocation object with the job's snapshot
  for (const runtime of [`gateway:${GW}`, 'cloud']) {
    const h = new RulesHost({ runtime, publish: () => undefined });
    const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024 });
    app.addHook('onRequest', (req, _reply, done) => {
      if (req.url === '/api/move') relocationBytes = Math.max(relocationBytes, Number(req.headers['content-length'] ?? 0));
      done();
    });
    rulesRoutes(app, h);
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    defer(`rules api ${runtime}`, () => app.close());
    hosts.push({ host: h, url, app });
  }
  const [gwHost, cloudHost] = [hosts[0]!, hosts[1]!];
  const agg = {
    headers: { runtime: `gateway:${GW}`, targetResource: gwHost.url, jobType: 'aggregation' },
    jobConfig: {
      connectors: { input: `ferry/up/${GW}/bthome/+`, output: 'ferry/bench/agg' },
      jobProps: {
        function: 'avg',
        fieldName: 'temperature',
        groupBy: 'device',
        window: { type: 'sliding', size: 60_000, slide: 1000, unit: 'ms' },
        outputField: 'avgTemp',
      },
    },
  };
  const aggRes = await fetch(`${gwHost.url}/api/install`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(agg) });
  const { jobId } = (await aggRes.json()) as { jobId: string };
  gwHost.host.engine.start(jobId);
  // State: readings from every device over the last 60 s, so about 60 open windows x (DEVICES + 1) groups.
  // Both hosts see the stream (broker fan-out), as in production.
  let aggSeq = 0;
  const feed = (count: number): void => {
    const now = Date.now();
    for (let i = 0; i < count; i++) {
      const rec = sampleRecords[aggSeq % sampleRecords.length]!;
      const atMs = now - 60_000 + Math.floor((i * 60_000) / count);
      const id = `${GW}/1/agg-${aggSeq++}`;
      for (const h of hosts) h.host.input(`ferry/up/${GW}/bthome/${topicSegment(String(rec['device']))}`, rec, atMs, id);
    }
  };
  feed(5000);
  const moveTimes: number[] = [];
  let from = gwHost;
  let to = cloudHost;
  for (let m = 0; m < MOVES + 1; m++) {
    const target = to === cloudHost ? 'cloud' : `gateway:${GW}`;
    const t0 = performance.now();
    const res = await fetch(`${from.url}/api/move`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jobId, target_runtime: target, targetResource: to.url }),
    });
    const body = await res.text();
    const ms = performance.now() - t0;
    if (res.status !== 200) throw new Error(`move ${m}: HTTP ${res.status} ${body}`);
    if (to.host.engine.list().find((j) => j.jobId === jobId)?.jobStatus !== 'RUNNING') throw new Error(`move ${m}: job not running at the target`);
    if (m > 0) moveTimes.push(ms); // the first is a warm-up (connections, JIT)
    [from, to] = [to, from];
    feed(200);
  }
  const jobStatus = from.host.engine.status(jobId);
  bar.increment();
  bar.stop();

  // ---- report
  const med = { ours: median(rates.ours), untrimmed: median(rates.untrimmed), daemon: median(rates.daemon), nodered: nrOk ? median(rates.nodered) : null };
  const ratio = med.nodered === null ? null : med.ours / med.nodered;
  const ratioDaemon = med.nodered === null ? null : med.daemon / med.nodered;
  const rp = (s: 'NORMAL' | 'FULL') => ({
    msgs_per_sec: Math.round(median(replayRuns[s].map((x) => x.rate))),
    bytes_per_msg: Math.round(median(replayRuns[s].map((x) => x.bytesPerMsg))),
    payload_bytes_per_msg: Math.round(median(replayRuns[s].map((x) => x.payloadPerMsg))),
    messages: s === 'FULL' ? REPLAY_FULL : REPLAY_NORMAL,
  });
  const moveMed = median(moveTimes);
  const k = (n: number | null): string => (n === null ? 'n/a' : `${(n / 1000).toFixed(1)}k/s`);
  console.log(
    `broker ${shared.kind}; ${EVENTS} BTHome adverts per run (${PICK.length} vectors, 3 of 8 AES-CCM encrypted, ${DEVICES} sensors), single filter temperature > ${THRESHOLD} (${expectedOutputs} pass); medians of ${RUNS} interleaved runs`,
  );
  console.log(`  ours: decode -> rule -> MQTT QoS 1                       ${k(med.ours).padStart(10)}  (outputs exact: ${exact.ours})`);
  console.log(`  ours, RulesHost replay buffer untrimmed (diagnostic)   ${k(med.untrimmed).padStart(10)}  (outputs exact: ${exact.untrimmed})`);
  console.log(
    `  ours, whole daemon (sign + outbox NORMAL + uplink)      ${k(med.daemon).padStart(10)}  (${DAEMON_EVENTS} events/run;  outputs exact: ${exact.daemon})`,
  );
  if (nrOk)
    console.log(
      `  Node-RED ${(nodeRed as { version: string }).version.padEnd(7)} JSON in: mqtt in>json>switch>mqtt out ${k(med.nodered).padStart(10)}  (outputs exact: ${String(exact.nodered)})`,
    );
  else console.log(`  Node-RED: not measured (${(nodeRed as { error: string }).error})`);
  if (ratio !== null)
    console.log(
      `  ours / Node-RED = ${ratio.toFixed(2)}x (goal >= 3x: ${ratio >= 3 ? 'met' : 'missed'}); whole daemon / Node-RED = ${ratioDaemon!.toFixed(2)}x`,
    );
  console.log(
    `  store-and-forward replay: ${rp('FULL').msgs_per_sec} msg/s at synchronous=FULL (default), ${rp('NORMAL').msgs_per_sec} msg/s at NORMAL; ${rp('NORMAL').bytes_per_msg} bytes on disk per buffered reading of ${rp('NORMAL').payload_bytes_per_msg} bytes (database + WAL, ${REPLAY_NORMAL} buffered)`,
  );
  console.log(
    `  rule move gateway <-> cloud over HTTP: median ${moveMed.toFixed(1)} ms over ${moveTimes.length} moves (max ${Math.max(...moveTimes).toFixed(1)} ms; goal < 1000 ms: ${moveMed < 1000 ? 'met' : 'missed'}); relocation object with window state ${relocationBytes} bytes`,
  );
  return {
    bench: 'gateway',
    runs: RUNS,
    events_per_run: EVENTS,
    passing_per_run: expectedOutputs,
    daemon_events_per_run: DAEMON_EVENTS,
    broker: shared.kind,
    events_per_sec: {
      ours_decode_rule_publish: Math.round(med.ours),
      ours_replay_buffer_untrimmed_diagnostic: Math.round(med.untrimmed),
      ours_whole_daemon_outbox_normal: Math.round(med.daemon),
      node_red: med.nodered === null ? null : Math.round(med.nodered),
    },
    runs_events_per_sec: {
      ours: rates.ours.map(Math.round),
      untrimmed: rates.untrimmed.map(Math.round),
      daemon: rates.daemon.map(Math.round),
      node_red: nrOk ? rates.nodered.map(Math.round) : null,
    },
    ratios: {
      ours_vs_node_red: ratio === null ? null : Number(ratio.toFixed(2)),
      untrimmed_vs_node_red: med.nodered === null ? null : Number((med.untrimmed / med.nodered).toFixed(2)),
      daemon_vs_node_red: ratioDaemon === null ? null : Number(ratioDaemon.toFixed(2)),
    },
    outputs_exact: exact,
    node_red:
      'error' in nodeRed
        ? { version: null, error: nodeRed.error }
        : { version: nodeRed.version, startup_ms: Math.round(nodeRed.startupMs), input: 'decoded JSON (no BTHome decoding)' },
    daemon_problems: daemonProblems,
    replay: { synchronous_full: rp('FULL'), synchronous_normal: rp('NORMAL') },
    move_ms: {
      median: Number(moveMed.toFixed(1)),
      max: Number(Math.max(...moveTimes).toFixed(1)),
      moves: moveTimes.length,
      relocation_bytes: relocationBytes,
      job_inputs: jobStatus.watermark.seq,
    },
  };
}

let result: Record<string, unknown> | undefined;
let failure: unknown;
try {
  result = await main();
} catch (e) {
  failure = e;
} finally {
  await cleanup();
}
if (failure !== undefined) {
  process.stderr.write(`bench:gateway failed: ${(failure as Error).stack ?? String(failure)}\n`);
  process.exit(1);
}
console.log(JSON.stringify(result));
process.exit(0);
