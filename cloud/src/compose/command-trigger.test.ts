/**
 * Composite-stream outputs command devices: a service object's `commands` field, checked at creation, sends
 * each stored value of its stream to a device of the object's owner through the real command queue, to a
 * device that verifies the signed command and acks it; another owner's device is never commanded.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, call } from '@ferry/test-kit/http';
import { CommandDevice } from '@ferry/test-kit/command-device';
import { until } from '@ferry/test-kit/until';
import type { CloudService } from '../service/service.ts';
import { startTestCloud } from '../service/test-cloud.case.ts';
import { fill, parseSoCommands } from './command-trigger.ts';

const num = (cv?: string) => ({ channels: { v: { type: 'number', ...(cv !== undefined && { 'current-value': cv }) } } });
const doc = (device: string) => ({
  streams: { T: num(), SP: num('Math.round({$T.channels.v.current-value} * 2) / 2 + 1') },
  commands: [{ stream: 'SP', device, command: { setpoint: '$v' }, ttl_s: 60, priority: 'high' }],
});

describe('parseSoCommands', () => {
  it('refuses what is not a list of {stream of this object, device id, command object, ttl_s?, priority?}, naming the entry', () => {
    const streams = { streams: { S: {} } };
    const cases: [unknown, RegExp][] = [
      [{ ...streams, commands: {} }, /commands: an array/],
      [{ ...streams, commands: [{ stream: 'X', device: 'd', command: {} }] }, /commands\[0\]: stream/],
      [{ ...streams, commands: [{ stream: 'S', device: 'a b', command: {} }] }, /commands\[0\]: device/],
      [{ ...streams, commands: [{ stream: 'S', device: 'd', command: [] }] }, /commands\[0\]: command/],
      [{ ...streams, commands: [{ stream: 'S', device: 'd', command: {}, ttl_s: 0 }] }, /ttl_s/],
      [{ ...streams, commands: [{ stream: 'S', device: 'd', command: {}, priority: 'urgent' }] }, /priority/],
    ];
    for (const [d, want] of cases) {
      const r = parseSoCommands(d);
      expect(r.ok).toBe(false);
      if (!r.ok) expect([r.error.code, r.error.message]).toEqual(['FERRY_COMPOSE_DOCUMENT', expect.stringMatching(want)]);
    }
    expect(parseSoCommands({ streams: {} })).toEqual({ ok: true, value: [] });
  });

  it('fill replaces exactly the "$<channel>" strings of known channels, at any depth, and nothing else', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.double({ noNaN: true }), (other, v) => {
        const value = { channels: { v }, lastUpdate: 1, id: 'x' };
        const out = fill({ a: '$v', b: ['$v', { c: '$v' }], d: '$w', e: 'v', other }, value as never);
        expect(out).toEqual({ a: v, b: [v, { c: v }], d: '$w', e: 'v', other: fill({ o: other }, { channels: {}, lastUpdate: 1, id: 'x' })['o'] });
      }),
    );
  });
});

describe('commands from a composite stream, through the cloud', () => {
  let cloud: CloudService;
  let api: string;
  let dev: CommandDevice;
  let bobs: CommandDevice;
  beforeAll(async () => {
    const urls = await startTestCloud({ name: 'so-cmd' });
    cloud = urls.svc;
    api = urls.httpUrl;
    for (const o of ['alice', 'bob']) expect((await call(api, 'POST', '/api/owners', ADMIN_TOKEN, { id: o })).status).toBe(201);
    const key = cloud.devices.add('th-so', 'home', Date.now(), 'alice').key;
    const bobKey = cloud.devices.add('th-bob', 'home', Date.now(), 'bob').key;
    dev = await CommandDevice.connect({ url: urls.mqttUrl, id: 'th-so', key });
    bobs = await CommandDevice.connect({ url: urls.mqttUrl, id: 'th-bob', key: bobKey });
  }, 30_000);
  afterAll(async () => {
    await dev?.close();
    await bobs?.close();
    await cloud?.stop();
  });

  it('refuses a malformed commands field at creation with a typed error', async () => {
    const r = await call(api, 'POST', '/api/v1/sos?owner=alice', ADMIN_TOKEN, {
      ...doc('th-so'),
      commands: [{ stream: 'NOPE', device: 'th-so', command: {} }],
    });
    expect([r.status, (r.body as { code: string }).code]).toEqual([400, 'FERRY_COMPOSE_DOCUMENT']);
  });

  it("each output of the stream becomes one command to the owner's device, with the output's value; acked", async () => {
    const so = ((await call(api, 'POST', '/api/v1/sos?owner=alice', ADMIN_TOKEN, doc('th-so'))).body as { id: string }).id;
    for (const [i, t] of [20.2, 21.7, 19.1].entries()) {
      const r = await call(api, 'PUT', `/api/v1/sos/${so}/streams/T`, ADMIN_TOKEN, { channels: { v: { 'current-value': t } }, lastUpdate: 1000 + i });
      expect(r.status).toBe(200);
    }
    // A redelivered update stores nothing, so it commands nothing again.
    await call(api, 'PUT', `/api/v1/sos/${so}/streams/T`, ADMIN_TOKEN, { channels: { v: { 'current-value': 19.1 } }, lastUpdate: 1002 });
    await until(() => dev.order.length === 3, 'three commands applied');
    const states = async () =>
      Promise.all(
        dev.order.map(async (id) => ((await call(api, 'GET', `/api/v1/commands/${id}`, ADMIN_TOKEN)).body as { state: string; command: unknown }).state),
      );
    await until(async () => (await states()).every((s) => s === 'acked'), 'every command acked');
    const commands = await Promise.all(
      dev.order.map(async (id) => ((await call(api, 'GET', `/api/v1/commands/${id}`, ADMIN_TOKEN)).body as { command: unknown }).command),
    );
    expect(commands).toEqual([{ setpoint: 21 }, { setpoint: 22.5 }, { setpoint: 20 }]);
    expect([...dev.applied.values()].every((n) => n === 1)).toBe(true);
  });

  it("another owner's device named in the field is never commanded", async () => {
    const so = ((await call(api, 'POST', '/api/v1/sos?owner=alice', ADMIN_TOKEN, doc('th-bob'))).body as { id: string }).id;
    await call(api, 'PUT', `/api/v1/sos/${so}/streams/T`, ADMIN_TOKEN, { channels: { v: { 'current-value': 20 } }, lastUpdate: 5000 });
    await new Promise((r) => setTimeout(r, 400)); // a command would have arrived by now: the first one took milliseconds
    expect([bobs.order, bobs.dropped, bobs.refused]).toEqual([[], 0, 0]);
  });
});
