/**
 * Alarms end to end (docs/operations.md "Alarms"): an emulated board's signed telemetry over MQTT crosses an
 * alarm rule's threshold in the cloud's rule engine; the alarm is raised and one webhook notification reaches a
 * real HTTP sink on loopback; acknowledged over the API, then cleared when the values go back. A planned
 * restart (stop, start on the same data) raises nothing and sends nothing again, and the rule's job comes back
 * with its state: a breach on the raised source raises nothing, the next good value clears.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode, type Json } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { call, ownerWithTokens } from '@ferry/test-kit/http';
import { deviceLogin } from '@ferry/test-kit/mqtt-login';
import { httpSink, type HttpSink, until } from '../cloud/src/notify/test-sinks.case.ts';
import type { CloudService } from '../cloud/src/service/service.ts';
import { startTestCloud, type TestCloudOptions } from '../cloud/src/service/test-cloud.case.ts';

const IAT = 1_767_225_600;
const dataDir = mkdtempSync(join(tmpdir(), 'ferry-alarms-e2e-'));
const options = (): TestCloudOptions => ({
  dataDir,
  functionRunner: 'in-process',
  health: { checkPeriodMs: 100 },
  notify: { allowPrivateAddresses: true, retry: { maxAttempts: 3, initialMs: 20, maxMs: 50 }, tickMs: 20 },
});

let cloud: CloudService;
let api: string;
let mqttUrl: string;
let sink: HttpSink;
let key: string;
let operator: string;
let viewer: string;
let sq = 0;
const clients: MqttClient[] = [];

type Body = Record<string, unknown>;
const body = (r: { body: unknown }): Body => r.body as Body;
const events = (): string[] => sink.received.map((r) => (JSON.parse(r.body) as { event: { kind: string } }).event.kind);

async function send(values: readonly number[]): Promise<void> {
  const c = await mqtt.connectAsync(mqttUrl, { ...deviceLogin('th1', key), reconnectPeriod: 0 });
  clients.push(c);
  for (const t of values) {
    sq++;
    const d: { [k: string]: Json } = { temp: t };
    const tok = encode({ header: { kid: 'th1', ep: 1, sq }, claims: { iss: 'th1', iat: IAT + sq, ev: 'tel', d } }, hmacKey(Buffer.from(key, 'hex')));
    if (!tok.ok) throw tok.error;
    await c.publishAsync('ferry/up/th1/msg', tok.value, { qos: 1 });
  }
  await c.endAsync(true);
}

async function alarms(): Promise<Body[]> {
  return body(await call(api, 'GET', '/api/v1/alarms?type=overheat', viewer))['alarms'] as Body[];
}

beforeAll(async () => {
  sink = await httpSink();
  ({ svc: cloud, httpUrl: api, mqttUrl } = await startTestCloud(options()));
  ({ operator, viewer } = await ownerWithTokens(api, 'alice', ['operator', 'viewer']));
  key = cloud.devices.add('th1', 'home', Date.now(), 'alice').key;
  const ch = await call(api, 'POST', '/api/v1/notify/channels', operator, { name: 'ops', kind: 'webhook', config: { url: sink.url } });
  expect(ch.status).toBe(201);
  const sub = await call(api, 'POST', '/api/v1/notify/subscriptions', operator, {
    channelId: body(ch)['id'],
    kinds: ['alarm.*'],
    source: 'overheat/*', // the board going offline between sends is an alarm too (device-offline): not this sink's
    template: { subject: '{{kind}} {{data.type}} {{data.source}}', body: '{{data.reason}}' },
  });
  expect(sub.status).toBe(201);
}, 30_000);
afterAll(async () => {
  for (const c of clients) await c.endAsync(true).catch(() => undefined);
  await cloud?.stop();
  await sink?.close();
});

describe('alarms end to end', () => {
  let alarmId: string;

  it('raises an alarm when telemetry crosses the threshold and sends one webhook notification', async () => {
    const made = await call(api, 'POST', '/api/v1/alarm-rules', operator, {
      name: 'too hot',
      type: 'overheat',
      severity: 'major',
      source: { kind: 'telemetry', device: 'th1' },
      value: 'temp',
      condition: { op: '>', threshold: 30 },
    });
    expect(made.status).toBe(201);
    expect(body(made)).toMatchObject({ owner: 'alice', runtime: 'cloud', repeatMs: 0, value: 'temp' });
    await send([20, 21, 35, 36, 37]);
    await until(async () => (await alarms()).length === 1, 'the alarm');
    await until(() => sink.received.length >= 1, 'the webhook call');
    const [a] = await alarms();
    expect(a).toMatchObject({ type: 'overheat', source: 'th1', severity: 'major', status: 'active', acknowledged: false, count: 1, owner: 'alice' });
    alarmId = a!['id'] as string;
    // One raise, one notification: the breaching samples after the first do not notify again.
    await new Promise((r) => setTimeout(r, 300));
    expect(events()).toEqual(['alarm.raised']);
    expect(JSON.parse(sink.received[0]!.body).subject).toBe('alarm.raised overheat th1');
  });

  it('acknowledges over the API, then clears when the values go back', async () => {
    const acked = await call(api, 'POST', `/api/v1/alarms/${alarmId}/ack`, operator);
    expect([acked.status, body(acked)['status'], body(acked)['acknowledged']]).toEqual([200, 'acknowledged', true]);
    await send([22]);
    await until(async () => (await alarms())[0]?.['status'] === 'cleared', 'the clear');
    await until(() => sink.received.length === 3, 'the acknowledged and cleared notifications');
    expect(events()).toEqual(['alarm.raised', 'alarm.acknowledged', 'alarm.cleared']);
    const one = body(await call(api, 'GET', `/api/v1/alarms/${alarmId}`, viewer));
    expect((one['history'] as { what: string }[]).map((h) => h.what)).toEqual(['raised', 'acknowledged', 'cleared']);
    expect([one['acknowledged'], typeof one['clearedMs']]).toEqual([true, 'number']);
  });

  it("a planned restart raises and sends nothing; the rule's job keeps its state, so the next good value clears", async () => {
    await send([40]);
    await until(async () => (await alarms()).length === 2, 'the second alarm');
    await until(() => sink.received.length === 4, 'its notification');
    await cloud.stop();
    ({ svc: cloud, httpUrl: api, mqttUrl } = await startTestCloud(options()));
    await new Promise((r) => setTimeout(r, 800)); // several sweeps and notifier rounds
    expect(sink.received.length).toBe(4);
    const after = await alarms();
    expect(after.map((a) => [a['status'], a['count']])).toEqual([
      ['active', 1],
      ['cleared', 1],
    ]);
    // The rule's job came back with its state: a breach on the raised source raises nothing; a good value clears.
    await send([41]);
    await new Promise((r) => setTimeout(r, 300));
    expect((await alarms())[0]?.['count']).toBe(1);
    await send([20]);
    await until(async () => (await alarms())[0]?.['status'] === 'cleared', 'the clear after the restart');
    await until(() => sink.received.length === 5, 'its notification');
    await new Promise((r) => setTimeout(r, 300));
    expect(events()).toEqual(['alarm.raised', 'alarm.acknowledged', 'alarm.cleared', 'alarm.raised', 'alarm.cleared']);
  });

  it("a rule naming an event takes that event's messages, whatever uplink topic they came on, and no other event's", async () => {
    const rule = (type: string, event: string): Promise<{ status: number }> =>
      call(api, 'POST', '/api/v1/alarm-rules', operator, {
        name: type,
        type,
        severity: 'minor',
        source: { kind: 'telemetry', device: 'th1', event },
        value: 'temp',
        condition: { op: '>', threshold: 30 },
      });
    expect((await rule('hot-tel', 'tel')).status).toBe(201);
    expect((await rule('hot-status', 'status')).status).toBe(201);
    await send([45]); // ev "tel", on ferry/up/th1/msg
    const of = async (type: string): Promise<Body[]> => body(await call(api, 'GET', `/api/v1/alarms?type=${type}`, viewer))['alarms'] as Body[];
    await until(async () => (await of('hot-tel')).length === 1, 'the alarm of the rule naming "tel"');
    expect((await of('hot-tel'))[0]).toMatchObject({ source: 'th1', status: 'active' });
    await new Promise((r) => setTimeout(r, 300));
    expect(await of('hot-status')).toEqual([]);
  });
});
