/** @module bench:gateway's baseline: the same filter in Node-RED on the same broker (mqtt in -> json -> switch -> mqtt out), fed decoded JSON. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { TestBroker } from '@ferry/test-kit/brokers';
import { freePort } from '@ferry/test-kit/ports';
import { topicSegment } from '../../gateway/src/daemon/daemon.ts';
import { EVENTS, NODE_RED_DIR, NODE_RED_IN, NODE_RED_VERSION, OUT, THRESHOLD } from './config.ts';
import type { Counter } from './counter.ts';
import { expectedOutputs, sampleRecords } from './events.ts';
import { defer, log, sleep, stopChild, tmp, track, yieldNow } from './lifecycle.ts';

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

export type NodeRedStart = { version: string; startupMs: number } | { error: string };

/**
 * Installs and starts Node-RED on `shared` when it can; `run` feeds it one run of EVENTS readings and resolves
 * with events/s once the subscriber has every passing output.
 */
export async function nodeRedPath(
  shared: TestBroker,
  counter: Counter,
  expectMore: (topic: string, n: number) => number,
): Promise<{ nodeRed: NodeRedStart; run: () => Promise<number> }> {
  let nodeRed: NodeRedStart;
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
  async function run(): Promise<number> {
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

  return { nodeRed, run };
}
