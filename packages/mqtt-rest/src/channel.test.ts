/** REST over MQTT (the control channel) against a real broker: signed requests, replay refusal, large payloads in groups. */
import Fastify from 'fastify';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { encode } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { aedesBroker } from '@ferry/test-kit/brokers';
import { ControlClient, requestTopic, serveControl } from './channel.ts';
import { ControlError } from './errors.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const key = hmacKey(new Uint8Array(32).fill(4));

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
  await serveControl({ client: gw, app, gatewayId: 'gw-c', key, onRefused: (w) => refused.push(w) });
  return { client: new ControlClient(cloud, (id) => (id === 'gw-c' ? key : undefined)), cloud, seen, refused };
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
    const mk = (k: typeof key, d: object, sq: number) => {
      const t = encode(
        {
          header: { kid: 'cloud', ep: 1, sq },
          claims: { iss: 'cloud', iat: Math.floor(Date.now() / 1000), ev: 'ctl', d: { c: Buffer.from(JSON.stringify(d)).toString('base64') } },
        },
        k,
      );
      if (!t.ok) throw t.error;
      return t.value;
    };
    const req = mk(key, { id: 'r1', method: 'POST', path: '/api/echo', body: { a: 1 } }, 0);
    await cloud.publishAsync(requestTopic('ferry', 'gw-c'), req, { qos: 1 });
    await cloud.publishAsync(requestTopic('ferry', 'gw-c'), req, { qos: 1 });
    await cloud.publishAsync(
      requestTopic('ferry', 'gw-c'),
      mk(hmacKey(new Uint8Array(32).fill(5)), { id: 'r2', method: 'POST', path: '/api/echo', body: {} }, 1),
      { qos: 1 },
    );
    await cloud.publishAsync(requestTopic('ferry', 'gw-c'), mk(key, { id: 'r3', method: 'GET', path: '/health' }, 2), { qos: 1 });
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
  it('times out with a typed error when no gateway answers', async () => {
    const { cloud } = await setup();
    const c = new ControlClient(cloud, () => key);
    await expect(c.request('gw-absent', { method: 'GET', path: '/api/ping' }, 300)).rejects.toThrow(/FERRY_CTL_TIMEOUT/);
    const e = await c.request('gw-absent', { method: 'GET', path: '/api/ping' }, 50).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ControlError);
    expect(e).toMatchObject({ code: 'FERRY_CTL_TIMEOUT', num: 7001, status: 504 });
  });
});
