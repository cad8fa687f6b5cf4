/** REST over MQTT (the control channel) against a real broker: signed requests, replay refusal, large payloads in groups. */
import Fastify from 'fastify';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { decode, encode } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { aedesBroker } from '@ferry/test-kit/brokers';
import { ControlClient, controlKey, ControlError, MemoryReplayWindow, requestTopic, serveControl } from './index.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
/** The gateway key (its readings' key); control messages are MACed with the key derived from it. */
const secret = new Uint8Array(32).fill(4);
const key = hmacKey(secret);
const ctlKey = controlKey(secret, 'gw-c');

async function setup() {
  const broker = await aedesBroker();
  cleanups.push(() => broker.stop());
  const app = Fastify();
  const seen: unknown[] = [];
  app.post('/api/echo', async (req) => {
    seen.push(req.body);
    return { echoed: req.body };
  });
  app.get('/api/ping', async () => ({ pong: true }));
  const gw = await mqtt.connectAsync(broker.url);
  const cloud = await mqtt.connectAsync(broker.url);
  cleanups.push(async () => {
    await gw.endAsync(true);
    await cloud.endAsync(true);
  });
  const refused: string[] = [];
  await serveControl({ client: gw, app, gatewayId: 'gw-c', gatewayKey: secret, replay: new MemoryReplayWindow(), onRefused: (w) => refused.push(w) });
  const keys = new Map([
    ['gw-c', secret],
    ['gw-x', secretX],
  ]);
  const clientRefused: string[] = [];
  const client = new ControlClient(cloud, (id) => keys.get(id), 'ferry', { onRefused: (w) => clientRefused.push(w) });
  return { client, cloud, seen, refused, broker, clientRefused };
}
const secretX = new Uint8Array(32).fill(9);
const keyX = controlKey(secretX, 'gw-x');

/** The request id a control token carries (read off the wire, as any subscriber can). */
const requestIdOf = (payload: Buffer): string => {
  const m = decode(payload);
  if (!m.ok) throw m.error;
  return (JSON.parse(Buffer.from((m.value.claims['d'] as { c: string }).c, 'base64').toString()) as { id: string }).id;
};
/** A client that sees every control request (the channel must not rely on nobody else reading them). */
async function eavesdropper(url: string, onRequest: (c: mqtt.MqttClient, topic: string, payload: Buffer) => void) {
  const spy = await mqtt.connectAsync(url);
  cleanups.push(() => spy.endAsync(true));
  spy.on('message', (topic, payload) => onRequest(spy, topic, payload));
  await spy.subscribeAsync('ferry/ctl/+/req', { qos: 1 });
  return spy;
}

describe('control channel', () => {
  it("runs a request on the gateway's routes and returns the signed reply", async () => {
    const { client } = await setup();
    expect(await client.request('gw-c', { method: 'GET', path: '/api/ping' })).toMatchObject({ status: 200, body: { pong: true } });
  });
  it('carries payloads larger than one envelope as a group of parts', async () => {
    const { client, seen } = await setup();
    const big = { blob: 'x'.repeat(9000), n: [1, 2, 3] };
    const r = await client.request('gw-c', { method: 'POST', path: '/api/echo', body: big });
    expect(r.status).toBe(200);
    expect(seen).toEqual([big]);
    expect((r.body as { echoed: unknown }).echoed).toEqual(big); // the reply came back in parts too
  });
  it('refuses a replayed request, one signed with another key, and one outside /api/', async () => {
    const { cloud, seen, refused } = await setup();
    const mk = (k: typeof key, d: { id: string }, sq: number) => {
      const t = encode(
        {
          header: { kid: 'cloud', ep: 1, sq },
          claims: {
            iss: 'cloud',
            iat: Math.floor(Date.now() / 1000),
            ev: 'ctl-req',
            gw: 'gw-c',
            rid: d.id,
            d: { c: Buffer.from(JSON.stringify(d)).toString('base64') },
          },
        },
        k,
      );
      if (!t.ok) throw t.error;
      return t.value;
    };
    const rid = (n: string) => n.padEnd(22, '0');
    const req = mk(ctlKey, { id: rid('r1'), method: 'POST', path: '/api/echo', body: { a: 1 } } as { id: string }, 0);
    await cloud.publishAsync(requestTopic('ferry', 'gw-c'), req, { qos: 1 });
    await cloud.publishAsync(requestTopic('ferry', 'gw-c'), req, { qos: 1 });
    await cloud.publishAsync(
      requestTopic('ferry', 'gw-c'),
      mk(hmacKey(new Uint8Array(32).fill(5)), { id: rid('r2'), method: 'POST', path: '/api/echo', body: {} } as { id: string }, 1),
      { qos: 1 },
    );
    await cloud.publishAsync(requestTopic('ferry', 'gw-c'), mk(ctlKey, { id: rid('r3'), method: 'GET', path: '/health' } as { id: string }, 2), { qos: 1 });
    const end = Date.now() + 5000;
    while (refused.length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual([{ a: 1 }]);
    expect(refused.sort()).toEqual(['FERRY_CTL_FORBIDDEN_PATH', 'FERRY_CTL_REPLAY', 'FERRY_MSG_BAD_SIGNATURE']);
  });
  // Regression: a request outside /api/ got no answer at all, so the cloud waited 5 s for a timeout.
  it('answers a request outside /api/ at once: refused by the client, and with a signed 403 by the gateway', async () => {
    const { client, refused } = await setup();
    const t0 = Date.now();
    await expect(client.request('gw-c', { method: 'GET', path: '/health' })).rejects.toThrow(/FERRY_CTL_BAD_REQUEST/);
    expect(Date.now() - t0).toBeLessThan(1000);
    // A request that bypasses the client's check still gets an answer: a signed refusal, not silence.
    const r = await client.requestUnchecked('gw-c', { method: 'GET', path: '/health' });
    expect(r).toMatchObject({ status: 403, body: { code: 'FERRY_CTL_FORBIDDEN_PATH' } });
    expect(refused).toContain('FERRY_CTL_FORBIDDEN_PATH');
  });
  // Regression: ids were `<epoch>-<counter>`, so anyone could predict the next one.
  it('gives every request a random id of at least 128 bits', async () => {
    const { client, broker } = await setup();
    const ids: string[] = [];
    await eavesdropper(broker.url, (_c, _t, p) => ids.push(requestIdOf(p)));
    await client.request('gw-c', { method: 'GET', path: '/api/ping' });
    await client.request('gw-c', { method: 'GET', path: '/api/ping' });
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    expect(ids[0]).not.toBe(ids[1]);
  });
  // Regression: a request and a reply were MACed alike, so a request echoed on the reply topic was taken for the reply.
  it('does not take a request echoed onto the reply topic for the reply', async () => {
    const { client, broker } = await setup();
    await eavesdropper(broker.url, (c, topic, p) => void c.publishAsync(topic.replace(/\/req$/, '/res'), p, { qos: 1 }));
    expect(await client.request('gw-c', { method: 'GET', path: '/api/ping' })).toMatchObject({ status: 200, body: { pong: true } });
  });
  // Regression: a reply was matched by id alone, so another gateway could answer this gateway's request.
  it("refuses another gateway's reply to this gateway's request, published on its own reply topic", async () => {
    const { client, broker, clientRefused } = await setup();
    // A request to gw-x is pending too, so gw-x's reply topic is one the client listens to and verifies.
    const toX = client.request('gw-x', { method: 'GET', path: '/api/ping' }, 1000).catch((e: unknown) => e);
    await eavesdropper(broker.url, (c, topic, p) => {
      if (topic !== 'ferry/ctl/gw-c/req') return;
      const id = requestIdOf(p);
      // gw-x holds a valid key of its own and signs a well-formed reply with it, naming gw-c's request.
      const t = encode(
        {
          header: { kid: 'gw-x.ctl', ep: 1, sq: 0 },
          claims: {
            iss: 'gw-x.ctl',
            iat: Math.floor(Date.now() / 1000),
            ev: 'ctl-res',
            gw: 'gw-x',
            rid: id,
            d: { c: Buffer.from(JSON.stringify({ id, status: 200, body: { forged: true } })).toString('base64') },
          },
        },
        keyX,
      );
      if (t.ok) void c.publishAsync('ferry/ctl/gw-x/res', t.value, { qos: 1 });
    });
    expect(await client.request('gw-c', { method: 'GET', path: '/api/ping' })).toMatchObject({ status: 200, body: { pong: true } });
    expect(clientRefused).toContain('FERRY_CTL_WRONG_GATEWAY');
    expect(await toX).toBeInstanceOf(ControlError);
  });
  // Regression: control requests were MACed with the gateway's telemetry key, so a key (or a signature) of one served the other.
  it("refuses a request MACed with the gateway's telemetry key", async () => {
    const { cloud, seen, refused } = await setup();
    const t = encode(
      {
        header: { kid: 'cloud', ep: 7, sq: 0 },
        claims: {
          iss: 'cloud',
          iat: Math.floor(Date.now() / 1000),
          ev: 'ctl-req',
          gw: 'gw-c',
          rid: 'AAAAAAAAAAAAAAAAAAAAAA',
          d: { c: Buffer.from(JSON.stringify({ id: 'AAAAAAAAAAAAAAAAAAAAAA', method: 'POST', path: '/api/echo', body: { t: 1 } })).toString('base64') },
        },
      },
      key,
    );
    if (!t.ok) throw t.error;
    await cloud.publishAsync(requestTopic('ferry', 'gw-c'), t.value, { qos: 1 });
    const end = Date.now() + 2000;
    while (refused.length < 1 && seen.length < 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual([]);
    expect(refused).toEqual(['FERRY_MSG_BAD_SIGNATURE']);
  });
  it('times out with a typed error when no gateway answers', async () => {
    const { cloud } = await setup();
    const c = new ControlClient(cloud, () => secret);
    await expect(c.request('gw-absent', { method: 'GET', path: '/api/ping' }, 300)).rejects.toThrow(/FERRY_CTL_TIMEOUT/);
    const e = await c.request('gw-absent', { method: 'GET', path: '/api/ping' }, 50).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ControlError);
    expect(e).toMatchObject({ code: 'FERRY_CTL_TIMEOUT', num: 7001, status: 504 });
  });
});
