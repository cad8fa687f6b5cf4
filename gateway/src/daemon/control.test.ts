/** The daemon's end of the control channel on a real broker (aedes): its replay window outlives a restart. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { ControlClient } from '@ferry/mqtt-rest';
import { aedesBroker } from '@ferry/test-kit/brokers';
import { ScriptedSource } from '@ferry/test-kit/sources';
import { ConfigError, parseConfig } from './config.ts';
import { GatewayDaemon } from './daemon.ts';

const KEY = '6b'.repeat(32);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const until = async (cond: () => boolean, what: string, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
const filter = {
  headers: { runtime: 'gateway:gw-r', targetResource: 'gateway:gw-r', jobType: 'single-filter' },
  jobConfig: { connectors: { input: 'ferry/up/gw-r/x/+', output: 'ferry/up/gw-r/y' }, jobProps: { condition: 'gt', threshold: 1, fieldName: 't' } },
};

describe('gateway daemon: control channel', () => {
  // Regression: the replay window lived in memory only, so a request captured off the wire ran again after a restart.
  it('refuses a request replayed after the daemon restarts', async () => {
    const broker = await aedesBroker();
    cleanups.push(() => broker.stop());
    const cfg = parseConfig({
      gateway: { id: 'gw-r', key: KEY, data_dir: mkdtempSync(join(tmpdir(), 'ferry-gw-ctl-')) },
      uplink: { url: broker.url },
      api: { port: 0 },
    });
    const logs: string[] = [];
    const start = async () => {
      const d = new GatewayDaemon(cfg, { sources: [new ScriptedSource()], log: (_l, m) => logs.push(m) });
      await d.start();
      await until(() => d.uplink.connected, 'the uplink');
      return d;
    };
    let d = await start();
    const cloud = await mqtt.connectAsync(broker.url);
    const spy = await mqtt.connectAsync(broker.url);
    cleanups.push(async () => {
      await cloud.endAsync(true);
      await spy.endAsync(true);
    });
    const captured: Buffer[] = [];
    spy.on('message', (_t, p) => captured.push(p));
    await spy.subscribeAsync('ferry/ctl/gw-r/req', { qos: 1 });
    const client = new ControlClient(cloud, (id) => (id === 'gw-r' ? Buffer.from(KEY, 'hex') : undefined));
    const first = await client.request('gw-r', { method: 'POST', path: '/api/install', body: filter });
    expect(first.status).toBe(201);
    expect(d.rules.engine.list()).toHaveLength(1);
    await until(() => captured.length === 1, 'the captured request');

    await d.stop();
    d = await start();
    cleanups.push(() => d.stop());
    // The restarted daemon serves the channel (a fresh request works) ...
    expect((await client.request('gw-r', { method: 'GET', path: '/api/jobs' })).status).toBe(200);
    const before = d.rules.engine.list().length;
    // ... but the captured one, still well within its two minutes, is refused: nothing is installed.
    for (const p of captured.slice(0, 1)) await spy.publishAsync('ferry/ctl/gw-r/req', p, { qos: 1 });
    await until(() => logs.some((m) => m.startsWith('FERRY_CTL_REPLAY')), `the replay to be refused: ${logs.join(' / ')}`);
    expect(d.rules.engine.list().length).toBe(before);
  });
  it('takes a configuration without a control section (the defaults), and names a bad value by its path', () => {
    const base = { gateway: { id: 'gw-r', key: KEY }, uplink: { url: 'mqtt://127.0.0.1:1' } };
    expect(parseConfig(base).control).toEqual({ max_age_s: 120, replay_window: 10_000 });
    expect(parseConfig({ ...base, control: { max_age_s: 30 } }).control).toEqual({ max_age_s: 30, replay_window: 10_000 });
    const e = (() => {
      try {
        parseConfig({ ...base, control: { max_age_s: 5, window: 1 } });
      } catch (x) {
        return x;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).issues).toEqual(['control.max_age_s: Too small: expected number to be >=10', 'control: Unrecognized key: "window"']);
  });
});
