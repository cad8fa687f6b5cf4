/** The daemon end to end on a real broker (aedes): signed readings, forwarded board messages, rules, API. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { encode, verify } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { aedesBroker } from '@ferry/test-kit/brokers';
import { ConfigError, parseConfig } from './config.ts';
import { GatewayDaemon } from './daemon.ts';
import { ScriptedSource } from '@ferry/test-kit/sources';

const KEY = '5a'.repeat(32);
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

async function setup(dataDir = mkdtempSync(join(tmpdir(), 'ferry-gw-'))) {
  const broker = await aedesBroker();
  cleanups.push(() => broker.stop());
  const cfg = parseConfig({ gateway: { id: 'gw-7', key: KEY, data_dir: dataDir }, uplink: { url: broker.url }, api: { port: 0 } });
  const src = new ScriptedSource();
  const logs: string[] = [];
  const d = new GatewayDaemon(cfg, { sources: [src], log: (_l, m) => logs.push(m) });
  const api = await d.start();
  cleanups.push(() => d.stop());
  const sub = await mqtt.connectAsync(broker.url);
  cleanups.push(() => sub.endAsync(true));
  const got: { topic: string; payload: Buffer }[] = [];
  sub.on('message', (topic, payload) => got.push({ topic, payload }));
  await sub.subscribeAsync('ferry/#', { qos: 1 });
  return { d, src, api, got, logs, dataDir, broker };
}

describe('gateway daemon', () => {
  it('signs readings as the gateway and publishes them; they verify with the gateway key', async () => {
    const { src, got, d } = await setup();
    await until(() => d.uplink.connected, 'uplink');
    src.sink!.reading({
      device: 'A4:C1:38:00:11:22',
      kind: 'bthome',
      atMs: 1_767_225_600_000,
      values: { temperature: 21.37, humidity: 48.2 },
      meta: { rssi: -61 },
    });
    src.sink!.reading({ device: '/dev/ttyAMA0#pms5003', kind: 'pms5003', atMs: 1_767_225_601_000, values: { pm2_5_atm: 12 } });
    await until(() => got.filter((m) => m.topic.startsWith('ferry/up/gw-7/')).length >= 2, 'two readings');
    const readings = got.filter((m) => m.topic.startsWith('ferry/up/gw-7/'));
    expect(readings.map((m) => m.topic)).toEqual(['ferry/up/gw-7/bthome/A4:C1:38:00:11:22', 'ferry/up/gw-7/pms5003/_dev_ttyAMA0#pms5003'.replace('#', '_')]);
    const v = readings.map((m) => verify(m.payload, hmacKey(Buffer.from(KEY, 'hex'))));
    expect(v.map((r) => (r.ok ? [r.value.header.kid, r.value.header.ep, r.value.header.sq] : r.error.code))).toEqual([
      ['gw-7', 1, 0],
      ['gw-7', 1, 1],
    ]);
    expect(v[0]!.ok && v[0]!.value.claims['d']).toEqual({
      device: 'A4:C1:38:00:11:22',
      kind: 'bthome',
      temperature: 21.37,
      humidity: 48.2,
      meta: { rssi: -61 },
    });
  });

  it('forwards a board-signed message byte for byte, and counts a malformed one without stopping', async () => {
    const { src, got, api } = await setup();
    const board = encode(
      { header: { kid: 'th-01', ep: 4, sq: 9 }, claims: { iss: 'th-01', iat: 1, ev: 'tel', d: { t: 20 } } },
      hmacKey(new Uint8Array(32).fill(1)),
    );
    if (!board.ok) throw board.error;
    src.sink!.signed(new TextEncoder().encode('garbage.not.token'), '/dev/ttyUSB0');
    src.sink!.signed(new TextEncoder().encode(board.value), '/dev/ttyUSB0');
    await until(() => got.some((m) => m.topic === 'ferry/up/th-01/msg'), 'forwarded message');
    expect(got.find((m) => m.topic === 'ferry/up/th-01/msg')!.payload.toString()).toBe(board.value);
    const metrics = await (await fetch(`${api}/metrics`)).text();
    expect(metrics).toMatch(/ferry_gateway_problems_total\{code="FERRY_MSG_[A-Z_]+"\} 1/);
    expect(metrics).toMatch(/ferry_gateway_forwarded_total 1/);
  });

  it('a restart starts a new epoch (persisted), so (epoch, seq) never repeats', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-gw-'));
    const a = await setup(dir);
    expect(a.d.signer.epoch).toBe(1);
    await a.d.stop();
    const b = await setup(dir);
    expect(b.d.signer.epoch).toBe(2);
  });

  it('runs an edge rule installed through the REST API and publishes its signed output; refuses a broken rule with the field path', async () => {
    const { src, got, api, d } = await setup();
    await until(() => d.uplink.connected, 'uplink');
    const rule = {
      headers: { runtime: 'gateway:gw-7', targetResource: api, jobType: 'single-filter' },
      jobConfig: {
        connectors: { input: 'ferry/up/gw-7/bthome/+', output: 'ferry/alerts/hot' },
        jobProps: { condition: 'gt', threshold: 25, fieldName: 'temperature' },
      },
    };
    const res = await fetch(`${api}/api/install`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) });
    expect(res.status).toBe(201);
    const info = (await res.json()) as { jobId: string };
    expect(
      (await fetch(`${api}/api/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jobId: info.jobId }) }))
        .status,
    ).toBe(200);
    for (const t of [22, 26.5, 24, 30]) src.sink!.reading({ device: 'A4:C1:38:00:11:22', kind: 'bthome', atMs: Date.now(), values: { temperature: t } });
    // An output for a topic outside the gateway's own space travels on its `<p>/up/<gw>/rule`, the signed
    // claims naming the topic (the cloud relays it there).
    await until(() => got.filter((m) => m.topic === 'ferry/up/gw-7/rule').length >= 2, 'two alerts');
    const outs = got.filter((m) => m.topic === 'ferry/up/gw-7/rule').map((m) => verify(m.payload, hmacKey(Buffer.from(KEY, 'hex'))));
    expect(outs.map((r) => r.ok && (r.value.claims['d'] as { out: { temperature: number } }).out.temperature)).toEqual([26.5, 30]);
    expect(outs.map((r) => r.ok && (r.value.claims['d'] as { topic: string }).topic)).toEqual(['ferry/alerts/hot', 'ferry/alerts/hot']);
    const status = (await (await fetch(`${api}/api/jobs/${info.jobId}`)).json()) as { counters: { in: number; out: number } };
    expect(status.counters).toMatchObject({ in: 4, out: 2 });
    const broken = { ...rule, jobConfig: { ...rule.jobConfig, jobProps: { condition: 'hotter', threshold: 25, fieldName: 'temperature' } } };
    const bad = await fetch(`${api}/api/install`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(broken) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ path: 'jobConfig.jobProps.condition' });
  });

  it("answers a body that is not JSON, and an unknown route, in Ferry's error shape", async () => {
    const { api } = await setup();
    const res = await fetch(`${api}/api/install`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id": ' });
    expect([res.status, await res.json()]).toEqual([400, { code: 'FERRY_API_BAD_REQUEST', num: 7101, message: expect.any(String) }]);
    const none = await fetch(`${api}/api/nothing-here`);
    expect([none.status, await none.json()]).toEqual([404, { code: 'FERRY_API_NOT_FOUND', num: expect.any(Number), message: expect.any(String) }]);
  });

  it('reports health: degraded while the broker is down, ok when it is back', async () => {
    const { api, d, broker } = await setup();
    await until(() => d.uplink.connected, 'uplink');
    expect((await fetch(`${api}/health`)).status).toBe(200);
    await broker.stop();
    await until(() => !d.uplink.connected, 'disconnect');
    const h = await fetch(`${api}/health`);
    expect(h.status).toBe(503);
    expect(((await h.json()) as { status: string }).status).toBe('degraded');
  });
});

describe('gateway config', () => {
  it('names every invalid field with its path', () => {
    expect(() => parseConfig({ gateway: { id: 'bad id', key: 'xyz' }, uplink: { url: 'http://x' }, serial: [{ path: '/dev/ttyS0', kind: 'pm25' }] })).toThrow(
      /gateway\.id: must be 1\.\.32[\s\S]*gateway\.key: must be hex[\s\S]*uplink\.url: must be an mqtt[\s\S]*serial\.0\.kind/,
    );
  });
  it('throws a ConfigError of the gateway catalog, naming the source and every issue', () => {
    let caught: unknown;
    try {
      parseConfig({ gateway: { id: 'gw-1', key: KEY } }, 'gateway.yaml');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect(caught).toMatchObject({ name: 'ConfigError', code: 'FERRY_GW_CONFIG', num: 5401, status: 400, issues: [expect.stringMatching(/^uplink/)] });
    expect((caught as Error).message).toMatch(/^FERRY_GW_CONFIG: gateway\.yaml is invalid:\n {2}uplink/);
  });
  it('accepts a minimal config and fills defaults', () => {
    const c = parseConfig({ gateway: { id: 'gw-1', key: KEY }, uplink: { url: 'mqtt://127.0.0.1:1883' } });
    expect(c.uplink.buffer.policy).toBe('drop-oldest');
    expect(c.api.port).toBe(8081);
  });
});
