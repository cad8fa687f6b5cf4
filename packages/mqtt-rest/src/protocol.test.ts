/** The control protocol's rules one by one, on an in-process stand-in for the MQTT client (no broker). */
import { createHmac } from 'node:crypto';
import { EventEmitter } from 'node:events';
import Fastify from 'fastify';
import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { decode, encode, verify } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { newRequestId, seal, type Sender } from './envelope.ts';
import { ControlClient, controlKey, controlKeyBytes, MemoryReplayWindow, replyTopic, requestTopic, serveControl } from './index.ts';

const secret = new Uint8Array(32).map((_, i) => i);
const key = controlKey(secret, 'gw-u');

function fakeClient() {
  const published: { topic: string; payload: string }[] = [];
  const c = Object.assign(new EventEmitter(), {
    published,
    subscribeAsync: async () => [],
    unsubscribeAsync: async () => undefined,
    publish: (topic: string, payload: string) => published.push({ topic, payload }),
    publishAsync: async (topic: string, payload: string) => {
      published.push({ topic, payload });
    },
  });
  return c as typeof c & MqttClient;
}

describe('control key', () => {
  it('is HKDF-SHA256(gateway key, salt "ferry/control/v1", info gateway id, 32 bytes) (RFC 5869 §2.2, §2.3)', () => {
    const prk = createHmac('sha256', 'ferry/control/v1').update(secret).digest();
    const okm = createHmac('sha256', prk)
      .update(Buffer.concat([Buffer.from('gw-u'), Buffer.from([1])]))
      .digest();
    expect(Buffer.from(controlKeyBytes(secret, 'gw-u')).toString('hex')).toBe(okm.toString('hex'));
    expect(Buffer.from(controlKeyBytes(secret, 'gw-v')).equals(okm)).toBe(false); // one key per gateway
  });
  it('separates control from telemetry both ways', () => {
    const claims = { iss: 'gw-u', iat: 1, ev: 'reading', d: {} };
    const reading = encode({ header: { kid: 'gw-u', ep: 1, sq: 0 }, claims }, hmacKey(secret));
    const control = encode({ header: { kid: 'gw-u', ep: 1, sq: 0 }, claims }, key);
    if (!reading.ok || !control.ok) throw new Error('encode');
    expect(verify(reading.value, key).ok).toBe(false);
    expect(verify(control.value, hmacKey(secret)).ok).toBe(false);
  });
  it('gives request ids of 128 random bits', () => {
    const ids = new Set(Array.from({ length: 1000 }, newRequestId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(Buffer.from(id, 'base64url')).toHaveLength(16);
  });
});

describe('gateway side', () => {
  async function gateway(o: { now?: () => number; window?: MemoryReplayWindow } = {}) {
    const client = fakeClient();
    const app = Fastify();
    const ran: string[] = [];
    app.get('/api/x', async () => {
      ran.push('x');
      return { x: 1 };
    });
    const refused: string[] = [];
    await serveControl({
      client,
      app,
      gatewayId: 'gw-u',
      gatewayKey: secret,
      replay: o.window ?? new MemoryReplayWindow(),
      ...(o.now !== undefined && { now: o.now }),
      onRefused: (w) => refused.push(w),
    });
    const sender: Sender = { kid: 'cloud', ep: 1, sq: 0, group: 0 };
    const send = (b: { ev?: 'ctl-req' | 'ctl-res'; gw?: string; rid?: string; id?: string; atMs?: number; k?: typeof key } = {}) => {
      const rid = b.rid ?? newRequestId();
      for (const t of seal(
        sender,
        b.k ?? key,
        { ev: b.ev ?? 'ctl-req', gw: b.gw ?? 'gw-u', rid },
        { id: b.id ?? rid, method: 'GET', path: '/api/x' },
        b.atMs ?? Date.now(),
      ))
        client.emit('message', requestTopic('ferry', 'gw-u'), Buffer.from(t));
      return rid;
    };
    return { client, app, ran, refused, send };
  }

  it('refuses a stale or future timestamp, a reply offered as a request, another gateway, a short id, a body naming another id', async () => {
    const g = await gateway();
    g.send({ atMs: Date.now() - 121_000 });
    g.send({ atMs: Date.now() + 121_000 });
    g.send({ ev: 'ctl-res' });
    g.send({ gw: 'gw-v' });
    g.send({ rid: 'short-id' });
    g.send({ id: newRequestId() });
    g.send({ k: controlKey(secret, 'gw-v') });
    expect(g.refused).toEqual([
      'FERRY_CTL_STALE',
      'FERRY_CTL_STALE',
      'FERRY_CTL_DIRECTION',
      'FERRY_CTL_WRONG_GATEWAY',
      'FERRY_CTL_BAD_REQUEST',
      'FERRY_CTL_BAD_REQUEST',
      'FERRY_MSG_BAD_SIGNATURE',
    ]);
    await g.app.ready();
    expect(g.ran).toEqual([]);
  });

  it('serves an id once, remembers it while its timestamp is fresh, and refuses new ids when the window is full', async () => {
    let now = 1_800_000_000_000;
    const window = new MemoryReplayWindow(2);
    const g = await gateway({ now: () => now, window });
    const a = g.send({ atMs: now });
    g.send({ rid: a, atMs: now });
    expect(g.refused).toEqual(['FERRY_CTL_REPLAY']);
    g.send({ atMs: now });
    g.send({ atMs: now }); // a third fresh id: the window (2) is full
    expect(g.refused).toEqual(['FERRY_CTL_REPLAY', 'FERRY_CTL_BUSY']);
    const busy = decode(g.client.published.at(-1)!.payload);
    expect(busy.ok && JSON.parse(Buffer.from((busy.value.claims['d'] as { c: string }).c, 'base64').toString())).toMatchObject({
      status: 503,
      body: { code: 'FERRY_CTL_BUSY' },
    });
    // Past the freshness bound the ids expire: the same request is now refused as stale, and room is made.
    now += 121_000;
    g.send({ rid: a, atMs: now - 121_000 });
    g.send({ atMs: now });
    expect(g.refused).toEqual(['FERRY_CTL_REPLAY', 'FERRY_CTL_BUSY', 'FERRY_CTL_STALE']);
    expect(window.size).toBe(1);
    await g.app.ready();
    const end = Date.now() + 2000;
    while (g.ran.length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    expect(g.ran).toHaveLength(3);
  });
});

describe('gateway side: storage', () => {
  it('refuses (FERRY_CTL_BUSY) rather than throws into the MQTT client when the replay window cannot be read or written', async () => {
    const client = fakeClient();
    const refused: string[] = [];
    const broken = {
      has: () => {
        throw new Error('SQLITE_IOERR');
      },
      add: (): 'added' => {
        throw new Error('SQLITE_FULL');
      },
    };
    await serveControl({ client, app: Fastify(), gatewayId: 'gw-u', gatewayKey: secret, replay: broken, onRefused: (w) => refused.push(w) });
    const rid = newRequestId();
    const [t] = seal({ kid: 'cloud', ep: 1, sq: 0, group: 0 }, key, { ev: 'ctl-req', gw: 'gw-u', rid }, { id: rid, method: 'GET', path: '/api/x' }, Date.now());
    expect(() => client.emit('message', requestTopic('ferry', 'gw-u'), Buffer.from(t!))).not.toThrow();
    expect(refused).toEqual(['FERRY_CTL_BUSY']);
  });
});

describe('cloud side', () => {
  it('refuses replies for no pending request, a request echoed as a reply, and a reply for a request to another gateway', async () => {
    const client = fakeClient();
    const secrets = new Map([
      ['gw-u', secret],
      ['gw-v', new Uint8Array(32).fill(7)],
    ]);
    const why: string[] = [];
    const cc = new ControlClient(client, (id) => secrets.get(id), 'ferry', { onRefused: (w, gw) => why.push(`${gw}:${w}`) });
    const reply = (gw: string, rid: string, k = controlKey(secrets.get(gw)!, gw)) =>
      seal({ kid: `${gw}.ctl`, ep: 1, sq: 0, group: 0 }, k, { ev: 'ctl-res', gw, rid }, { id: rid, status: 200, body: { from: gw } }, Date.now())[0]!;
    client.emit('message', replyTopic('ferry', 'gw-u'), Buffer.from(reply('gw-u', newRequestId())));
    const toU = cc.request('gw-u', { method: 'GET', path: '/api/x' }, 2000);
    const toV = cc.request('gw-v', { method: 'GET', path: '/api/x' }, 2000);
    while (client.published.length < 2) await new Promise((r) => setImmediate(r));
    const [reqU, reqV] = client.published.map((p) => p.payload);
    const ridOf = (t: string): string => {
      const m = decode(t);
      if (!m.ok) throw m.error;
      return m.value.claims['rid'] as string;
    };
    const ridU = ridOf(reqU!);
    const ridV = ridOf(reqV!);
    client.emit('message', replyTopic('ferry', 'gw-u'), Buffer.from(reqU!)); // the request itself, echoed
    client.emit('message', replyTopic('ferry', 'gw-v'), Buffer.from(reply('gw-v', ridU))); // gw-v answers gw-u's request
    client.emit('message', replyTopic('ferry', 'gw-u'), Buffer.from(reply('gw-v', ridU))); // ... or on gw-u's topic
    client.emit('message', replyTopic('ferry', 'gw-u'), Buffer.from(reply('gw-u', newRequestId()))); // an id nobody asked
    expect(why).toEqual([
      'gw-u:FERRY_CTL_UNKNOWN_REQUEST',
      'gw-u:FERRY_CTL_DIRECTION', // the same key MACs both directions; the MACed ev tells them apart
      'gw-v:FERRY_CTL_WRONG_GATEWAY',
      'gw-u:FERRY_MSG_BAD_SIGNATURE',
      'gw-u:FERRY_CTL_UNKNOWN_REQUEST',
    ]);
    client.emit('message', replyTopic('ferry', 'gw-u'), Buffer.from(reply('gw-u', ridU)));
    client.emit('message', replyTopic('ferry', 'gw-v'), Buffer.from(reply('gw-v', ridV)));
    expect(await toU).toMatchObject({ status: 200, body: { from: 'gw-u' } });
    expect(await toV).toMatchObject({ status: 200, body: { from: 'gw-v' } });
    expect(cc.refused.get('FERRY_CTL_UNKNOWN_REQUEST')).toBe(2);
  });
});
