/**
 * Property: any single byte changed in a control request or reply makes it refused, while the unchanged
 * message is accepted (so the refusal is the change's doing, not a replay or a stale timestamp). Driven
 * through serveControl and ControlClient on an in-process stand-in for the MQTT client, many cases a second.
 */
import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import Fastify from 'fastify';
import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { decode } from '@ferry/message';
import { newRequestId, seal, type Sender } from './envelope.ts';
import { ControlClient, controlKey, MemoryReplayWindow, replyTopic, requestTopic, serveControl } from './index.ts';

const secret = new Uint8Array(32).fill(0x31);
const key = controlKey(secret, 'gw-p');

/** The parts of an MqttClient the channel uses; publishes are recorded. */
function fakeClient() {
  const e = new EventEmitter();
  const published: { topic: string; payload: string }[] = [];
  const c = Object.assign(e, {
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

/** `token` with the byte at `at` (modulo its length) replaced by a different value. */
function mutate(token: string, at: number, delta: number): Buffer {
  const b = Buffer.from(token);
  const i = at % b.length;
  b[i] = (b[i]! + 1 + (delta % 255)) % 256;
  return b;
}

const body = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ minLength: 900, maxLength: 2000 })); // one part, or a group
const change = fc.record({ part: fc.nat(), at: fc.nat(), delta: fc.nat() });

describe('control channel: a changed byte is always refused', () => {
  it('in a request (the gateway runs nothing)', async () => {
    const client = fakeClient();
    const app = Fastify();
    const seen: unknown[] = [];
    app.post('/api/echo', async (req) => {
      seen.push(req.body);
      return {};
    });
    const refused: string[] = [];
    await serveControl({ client, app, gatewayId: 'gw-p', gatewayKey: secret, replay: new MemoryReplayWindow(), onRefused: (w) => refused.push(w) });
    const sender: Sender = { kid: 'cloud', ep: 1, sq: 0, group: 0 };
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(body, change, async (text, c) => {
        const rid = newRequestId();
        const parts = seal(sender, key, { ev: 'ctl-req', gw: 'gw-p', rid }, { id: rid, method: 'POST', path: '/api/echo', body: { text } }, Date.now());
        const before = refused.length;
        client.emit('message', requestTopic('ferry', 'gw-p'), mutate(parts[c.part % parts.length]!, c.at, c.delta));
        expect(refused.length).toBe(before + 1);
        for (const p of parts) client.emit('message', requestTopic('ferry', 'gw-p'), Buffer.from(p));
        expect(refused.length).toBe(before + 1); // the unchanged request is accepted
        accepted++;
      }),
      { numRuns: 150 },
    );
    await app.ready();
    const end = Date.now() + 5000;
    while (seen.length < accepted && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(seen.length).toBe(accepted); // every unchanged request ran once, no changed one did
  });

  it('in a reply (the request keeps waiting, then takes the real one)', async () => {
    const client = fakeClient();
    const cc = new ControlClient(client, (id) => (id === 'gw-p' ? secret : undefined));
    const sender: Sender = { kid: 'gw-p.ctl', ep: 1, sq: 0, group: 0 };
    const total = (): number => [...cc.refused.values()].reduce((a, b) => a + b, 0);
    await fc.assert(
      fc.asyncProperty(body, change, async (text, c) => {
        const pending = cc.request('gw-p', { method: 'GET', path: '/api/x' }, 5000);
        let settled = false;
        void pending.finally(() => {
          settled = true;
        });
        while (client.published.length === 0) await new Promise((r) => setImmediate(r));
        const req = decode(client.published.splice(0).at(-1)!.payload);
        if (!req.ok) throw req.error;
        const rid = req.value.claims['rid'] as string;
        const parts = seal(sender, key, { ev: 'ctl-res', gw: 'gw-p', rid }, { id: rid, status: 200, body: { text } }, Date.now());
        const before = total();
        client.emit('message', replyTopic('ferry', 'gw-p'), mutate(parts[c.part % parts.length]!, c.at, c.delta));
        expect(total()).toBe(before + 1);
        await new Promise((r) => setImmediate(r));
        expect(settled).toBe(false);
        for (const p of parts) client.emit('message', replyTopic('ferry', 'gw-p'), Buffer.from(p));
        expect(await pending).toEqual({ id: rid, status: 200, body: { text } });
        expect(total()).toBe(before + 1);
      }),
      { numRuns: 150 },
    );
  });
});
