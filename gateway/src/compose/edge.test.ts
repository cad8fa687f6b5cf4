/**
 * Composite streams in the daemon, on a real broker (aedes): readings of local sources feed a simple stream
 * (compose.feeds), every update and output goes up signed through the outbox, the /api/so routes install,
 * push and move, a reading for an object that moved away goes up as a `feed`, and objects survive a restart.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { verify } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { aedesBroker } from '@ferry/test-kit/brokers';
import { ScriptedSource } from '@ferry/test-kit/sources';
import { parseConfig } from '../daemon/config.ts';
import { GatewayDaemon } from '../daemon/daemon.ts';
import { MOVE_FORMAT } from './routes.ts';

const KEY = '6b'.repeat(32);
const cleanups: (() => Promise<unknown>)[] = [];
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
const ROOM = {
  streams: {
    temp: { channels: { c: { type: 'number' }, h: { type: 'number' } } },
    feels: { channels: { c: { type: 'number', 'current-value': '{$temp.channels.c.current-value} + {$temp.channels.h.current-value} / 10' } } },
  },
};

async function setup(dataDir = mkdtempSync(join(tmpdir(), 'ferry-gw-so-'))) {
  const broker = await aedesBroker();
  cleanups.push(() => broker.stop());
  const cfg = parseConfig({
    gateway: { id: 'gw-9', key: KEY, data_dir: dataDir },
    uplink: { url: broker.url },
    api: { port: 0 },
    compose: { feeds: [{ device: 'A4:C1:38:00:11:22', kind: 'bthome', so: 'room', stream: 'temp', channels: { c: 'temperature', h: 'humidity' } }] },
  });
  const src = new ScriptedSource();
  const problems: string[] = [];
  const d = new GatewayDaemon(cfg, { sources: [src], log: (_l, m) => problems.push(m) });
  const api = await d.start();
  cleanups.push(() => d.stop());
  const sub = await mqtt.connectAsync(broker.url);
  cleanups.push(() => sub.endAsync(true));
  const up: Record<string, unknown>[] = [];
  sub.on('message', (_topic, payload) => {
    const m = verify(payload, hmacKey(Buffer.from(KEY, 'hex')));
    if (m.ok && m.value.claims['ev'] === 'so') up.push(m.value.claims['d'] as Record<string, unknown>);
  });
  await sub.subscribeAsync('ferry/up/gw-9/so', { qos: 1 });
  await until(() => d.uplink.connected, 'uplink');
  const post = async (path: string, body: unknown) => {
    const r = await fetch(`${api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  return { d, src, up, post, problems, dataDir };
}

const reading = (t: number, atMs: number) => ({ device: 'A4:C1:38:00:11:22', kind: 'bthome', atMs, values: { temperature: t, humidity: 50 } });

describe('gateway daemon: composite streams', () => {
  it('feeds readings to a simple stream and sends every update and output up, signed, through the outbox', async () => {
    const { src, up, post } = await setup();
    expect((await post('/api/so', { id: 'room', owner: 'alice', document: ROOM })).status).toBe(201);
    src.sink!.reading(reading(20, 1000));
    src.sink!.reading({ ...reading(99, 2000), device: 'other' }); // no feed maps it
    src.sink!.reading(reading(21, 3000));
    await until(() => up.length >= 4, 'two updates and two outputs');
    expect(up.map((d) => `${d['kind']} ${d['so']}/${d['stream']} ${JSON.stringify((d['value'] as { channels: unknown }).channels)}`)).toEqual([
      'update room/temp {"c":20,"h":50}',
      'output room/feels {"c":25}',
      'update room/temp {"c":21,"h":50}',
      'output room/feels {"c":26}',
    ]);
    expect(up[1]).toMatchObject({ owner: 'alice', value: { lastUpdate: 1000 } });
  });

  it('answers bad requests in the catalog shape; moves out (asked twice, the same snapshots) and a later reading goes up as a feed', async () => {
    const { src, up, post } = await setup();
    expect((await post('/api/so', { id: 'room' })).body).toMatchObject({ code: 'FERRY_API_BAD_REQUEST' });
    expect((await post('/api/so', { id: 'room', owner: 'alice', document: { streams: { x: { channels: { a: { type: 'nope' } } } } } })).status).toBe(400);
    await post('/api/so', { id: 'room', owner: 'alice', document: ROOM });
    const pushed = await post('/api/so/push', {
      so: 'room',
      stream: 'temp',
      update: { channels: { c: { 'current-value': 18 }, h: { 'current-value': 40 } }, lastUpdate: 500 },
    });
    expect(pushed).toEqual({ status: 200, body: { outcome: 'accepted', outputs: 2 } });
    expect((await post('/api/so/push', { so: 'room', stream: 'feels', update: {} })).body).toMatchObject({ code: 'FERRY_COMPOSE_NOT_SIMPLE' });
    const out = await post('/api/so/move', { so: 'room' });
    expect(out.status).toBe(200);
    expect(out.body['format']).toBe(MOVE_FORMAT);
    expect((out.body['snapshots'] as { streams: Record<string, { channels: unknown }> }[])[0]!.streams['feels']!.channels).toEqual({ c: 22 });
    expect(await post('/api/so/move', { so: 'room' })).toEqual(out);
    src.sink!.reading(reading(23, 4000));
    await until(() => up.some((d) => d['kind'] === 'feed'), 'the feed');
    expect(up.at(-1)).toEqual({
      kind: 'feed',
      so: 'room',
      stream: 'temp',
      update: { channels: { c: { 'current-value': 23 }, h: { 'current-value': 50 } }, lastUpdate: 4000 },
    });
    const back = await post('/api/so/move', { format: MOVE_FORMAT, snapshots: out.body['snapshots'] });
    expect(back).toEqual({ status: 201, body: { format: MOVE_FORMAT, so: ['room'] } });
    const tooMany = await post('/api/so/move', { format: MOVE_FORMAT, snapshots: Array.from({ length: 257 }, () => ({})) });
    expect(tooMany.body).toMatchObject({ code: 'FERRY_API_BAD_REQUEST' });
  });

  it('hosts its objects again after a restart, with their latest values', async () => {
    const first = await setup();
    await first.post('/api/so', { id: 'room', owner: 'alice', document: ROOM });
    first.src.sink!.reading(reading(20, 1000));
    await until(() => first.up.length >= 2, 'the first wave');
    await first.d.stop();
    const second = await setup(first.dataDir);
    expect(second.d.compose?.host.list({ global: true })).toEqual([{ id: 'room', owner: 'alice' }]);
    second.src.sink!.reading(reading(20, 1000)); // not newer than what the store holds: nothing goes up
    second.src.sink!.reading(reading(30, 5000));
    await until(() => second.up.length >= 2, 'the next wave');
    expect(second.up.map((d) => d['kind'])).toEqual(['update', 'output']);
  });
});
