/**
 * The notification routes through a running cloud (embedded broker, SQLite): channels with their secrets
 * never answered back, subscriptions, an event from CloudService.notify delivered over a webhook and over the
 * cloud's own broker to a real subscriber, deliveries and dead letters with replay, the test send, roles, the
 * owner boundary and typed refusals; then a restart of the cloud that re-sends nothing acknowledged.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN } from '@ferry/test-kit/http';
import { workerLogin } from '@ferry/test-kit/mqtt-login';
import { verifyWebhook, SIGNATURE_HEADER } from '../notify/channel-webhook.ts';
import { httpSink, until, type HttpSink } from '../notify/test-sinks.case.ts';
import type { CloudService } from '../service/service.ts';
import { startTestCloud, type TestCloudOptions } from '../service/test-cloud.case.ts';

type Answer = { status: number; body: Record<string, unknown> & Record<number, unknown> };
async function call(api: string, method: string, path: string, token: string, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(`${api}${path}`, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) });
  const text = await r.text();
  return { status: r.status, body: text === '' ? {} : (JSON.parse(text) as Answer['body']) };
}

const dataDir = mkdtempSync(join(tmpdir(), 'ferry-notify-api-'));
const options = (): TestCloudOptions => ({
  dataDir,
  functionRunner: 'in-process',
  notify: { allowPrivateAddresses: true, retry: { maxAttempts: 2, initialMs: 20, maxMs: 50 }, tickMs: 20 },
});

let cloud: CloudService;
let api: string;
let mqttUrl: string;
let sink: HttpSink;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  sink = await httpSink();
  ({ svc: cloud, httpUrl: api, mqttUrl } = await startTestCloud(options()));
  for (const owner of ['alice', 'bob']) {
    const priv = (await call(api, 'POST', '/api/owners', ADMIN_TOKEN, { id: owner })).body['privateToken'] as string;
    for (const role of ['viewer', 'operator']) tokens[`${owner}-${role}`] = (await call(api, 'POST', '/api/tokens', priv, { role })).body['token'] as string;
  }
}, 30_000);
afterAll(async () => {
  await sink.close();
  await cloud?.stop();
});

describe('notification API', () => {
  let channelId: string;
  let secret: string;

  it('makes a webhook channel, answers its secret once and never again', async () => {
    const made = await call(api, 'POST', '/api/v1/notify/channels', tokens['alice-operator']!, { name: 'ops', kind: 'webhook', config: { url: sink.url } });
    expect(made.status).toBe(201);
    channelId = made.body['id'] as string;
    secret = made.body['secret'] as string;
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    const got = await call(api, 'GET', `/api/v1/notify/channels/${channelId}`, tokens['alice-viewer']!);
    expect([got.status, got.body['hasSecret'], got.body['secret'], got.body['sealedSecret']]).toEqual([200, true, undefined, undefined]);
    const listed = await call(api, 'GET', '/api/v1/notify/channels', tokens['alice-viewer']!);
    expect(JSON.stringify(listed.body)).not.toContain(secret);
  });

  it('delivers an event from CloudService.notify to the subscribed webhook, signed, and lists the delivery', async () => {
    const sub = await call(api, 'POST', '/api/v1/notify/subscriptions', tokens['alice-operator']!, {
      channelId,
      kinds: ['device.offline'],
      template: { subject: '{{source}} is offline', body: 'since {{data.since}}' },
    });
    expect(sub.status).toBe(201);
    cloud.notify({ owner: 'alice', kind: 'device.offline', source: 'thermo-1', at: Date.now(), data: { since: 42 } });
    cloud.notify({ owner: 'bob', kind: 'device.offline', source: 'bobs', at: Date.now(), data: {} }); // bob subscribed to nothing
    await until(() => sink.received.length === 1, 'the webhook call');
    const got = sink.received[0]!;
    expect(verifyWebhook(secret, got.body, got.headers[SIGNATURE_HEADER] as string, Math.floor(Date.now() / 1000))).toBe(true);
    expect((JSON.parse(got.body) as { subject: string }).subject).toBe('thermo-1 is offline');
    await until(async () => {
      const l = await call(api, 'GET', '/api/v1/notify/deliveries?state=acked', tokens['alice-viewer']!);
      return Array.isArray(l.body) && l.body.length === 1;
    }, 'the acknowledged delivery listed');
    const bobs = await call(api, 'GET', '/api/v1/notify/deliveries', tokens['bob-viewer']!);
    expect(bobs.body).toEqual([]);
  });

  it('publishes to a real subscriber on the cloud broker for an MQTT channel, and answers the test send', async () => {
    const made = await call(api, 'POST', '/api/v1/notify/channels', tokens['alice-operator']!, { kind: 'mqtt', config: { topic: 'ops' } });
    expect(made.status).toBe(201);
    const sub = await mqtt.connectAsync(mqttUrl, { ...workerLogin(cloud.mqttCredential), reconnectPeriod: 0 });
    const got: string[] = [];
    sub.on('message', (topic) => got.push(topic));
    await sub.subscribeAsync('ferry/notify/#', { qos: 1 });
    const test = await call(api, 'POST', '/api/v1/notify/test', tokens['alice-operator']!, { channelId: made.body['id'] });
    expect([test.status, test.body['acknowledged']]).toEqual([200, true]);
    await until(() => got.length === 1, 'the MQTT message');
    expect(got).toEqual(['ferry/notify/alice/ops']);
    await sub.endAsync(true);
  });

  it('keeps a failed delivery as a dead letter, and replays it on request', async () => {
    sink.answer = () => 500;
    const before = sink.received.length;
    cloud.notify({ owner: 'alice', kind: 'device.offline', source: 'thermo-2', at: Date.now(), data: {} });
    let dead: unknown = [];
    await until(async () => {
      dead = (await call(api, 'GET', '/api/v1/notify/dead-letters', tokens['alice-viewer']!)).body;
      return Array.isArray(dead) && dead.length === 1;
    }, 'the dead letter');
    const id = (dead as { id: string }[])[0]!.id;
    expect(sink.received.length - before).toBe(2);
    expect((await call(api, 'POST', `/api/v1/notify/dead-letters/${id}/replay`, tokens['bob-operator']!)).status).toBe(404);
    sink.answer = () => 200;
    const replay = await call(api, 'POST', `/api/v1/notify/dead-letters/${id}/replay`, tokens['alice-operator']!);
    expect([replay.status, replay.body['state']]).toEqual([200, 'queued']);
    await until(async () => (await call(api, 'GET', `/api/v1/notify/deliveries/${id}`, tokens['alice-viewer']!)).body['state'] === 'acked', 'the replay acked');
    const again = await call(api, 'POST', `/api/v1/notify/dead-letters/${id}/replay`, tokens['alice-operator']!);
    expect([again.status, again.body['code']]).toEqual([409, 'FERRY_NOTIFY_NOT_DEAD']);
  });

  it("answers 404 for another owner's channel, 403 to a viewer who changes, and typed errors naming the field", async () => {
    expect((await call(api, 'GET', `/api/v1/notify/channels/${channelId}`, tokens['bob-viewer']!)).status).toBe(404);
    expect((await call(api, 'DELETE', `/api/v1/notify/channels/${channelId}`, tokens['bob-operator']!)).status).toBe(404);
    expect((await call(api, 'POST', '/api/v1/notify/subscriptions', tokens['bob-operator']!, { channelId, kinds: ['*'] })).status).toBe(404);
    expect((await call(api, 'POST', '/api/v1/notify/test', tokens['bob-operator']!, { channelId })).status).toBe(404);
    expect((await call(api, 'POST', '/api/v1/notify/channels', tokens['alice-viewer']!, { kind: 'mqtt' })).status).toBe(403);
    expect((await call(api, 'POST', '/api/v1/notify/channels', tokens['alice-operator']!, { kind: 'mqtt', owner: 'bob' })).status).toBe(403);
    const cases: [unknown, string, string][] = [
      [{ kind: 'pager' }, 'FERRY_NOTIFY_BAD_REQUEST', 'kind'],
      [{ kind: 'webhook', config: { url: 'http://x/', timeoutMs: 10 } }, 'FERRY_NOTIFY_BAD_REQUEST', 'config.timeoutMs'],
      [{ kind: 'email', config: { host: 'h', from: 'not-an-address', to: ['a@b'] } }, 'FERRY_NOTIFY_BAD_REQUEST', 'config.from'],
      [{ kind: 'mqtt', config: { topic: 'a/#' } }, 'FERRY_NOTIFY_BAD_REQUEST', 'config.topic'],
      [{ kind: 'webhook', config: { url: 'file:///etc/passwd' } }, 'FERRY_NOTIFY_ADDRESS', 'config.url'],
    ];
    for (const [body, code, path] of cases) {
      const r = await call(api, 'POST', '/api/v1/notify/channels', tokens['alice-operator']!, body);
      expect([r.status, r.body['code'], r.body['path']]).toEqual([400, code, path]);
    }
    const badTemplate = await call(api, 'POST', '/api/v1/notify/subscriptions', tokens['alice-operator']!, {
      channelId,
      kinds: ['*'],
      template: { body: '{{ x' },
    });
    expect([badTemplate.status, badTemplate.body['code'], badTemplate.body['path']]).toEqual([400, 'FERRY_NOTIFY_TEMPLATE', 'template.body']);
    const inUse = await call(api, 'DELETE', `/api/v1/notify/channels/${channelId}`, tokens['alice-operator']!);
    expect([inUse.status, inUse.body['code']]).toEqual([409, 'FERRY_NOTIFY_IN_USE']);
    const badState = await call(api, 'GET', '/api/v1/notify/deliveries?state=lost', tokens['alice-viewer']!);
    expect([badState.status, badState.body['code']]).toEqual([400, 'FERRY_NOTIFY_BAD_REQUEST']);
  });

  it('keeps the sealed secret on a PUT without one, refuses a change of kind, and bounds channels per owner', async () => {
    const put = await call(api, 'PUT', `/api/v1/notify/channels/${channelId}`, tokens['alice-operator']!, {
      kind: 'webhook',
      config: { url: sink.url, timeoutMs: 2000 },
    });
    expect([put.status, put.body['hasSecret'], (put.body['config'] as { timeoutMs: number }).timeoutMs, put.body['secret']]).toEqual([
      200,
      true,
      2000,
      undefined,
    ]);
    const before = sink.received.length;
    const test = await call(api, 'POST', '/api/v1/notify/test', tokens['alice-operator']!, { channelId });
    expect(test.status).toBe(200);
    const got = sink.received[before]!;
    expect(verifyWebhook(secret, got.body, got.headers[SIGNATURE_HEADER] as string, Math.floor(Date.now() / 1000))).toBe(true); // still the first secret
    const kind = await call(api, 'PUT', `/api/v1/notify/channels/${channelId}`, tokens['alice-operator']!, { kind: 'mqtt' });
    expect([kind.status, kind.body['code'], kind.body['path']]).toEqual([400, 'FERRY_NOTIFY_BAD_REQUEST', 'kind']);
    let last: Answer | undefined;
    for (let i = 0; i < 51 && last?.status !== 429; i++) last = await call(api, 'POST', '/api/v1/notify/channels', tokens['bob-operator']!, { kind: 'mqtt' });
    expect([last?.status, last?.body['code']]).toEqual([429, 'FERRY_NOTIFY_LIMIT']);
    expect(((await call(api, 'GET', '/api/v1/notify/channels', tokens['bob-viewer']!)).body as unknown as unknown[]).length).toBe(50);
  });

  it('counts outcomes on /metrics', async () => {
    const r = await fetch(`${api}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const text = await r.text();
    expect(text).toMatch(/ferry_cloud_notify_total\{outcome="acked"\} [1-9]/);
    expect(text).toMatch(/ferry_cloud_notify_total\{outcome="dead"\} 1/);
    expect(text).toContain('ferry_cloud_notify_in_flight');
  });

  it('after a restart of the cloud re-sends nothing acknowledged and delivers what was accepted', async () => {
    const before = sink.received.length;
    await cloud.stop();
    ({ svc: cloud, httpUrl: api, mqttUrl } = await startTestCloud(options()));
    cloud.notify({ owner: 'alice', kind: 'device.offline', source: 'after-restart', at: Date.now(), data: {} });
    await until(() => sink.received.length === before + 1, 'the new event delivered');
    await cloud.notifier.idle();
    expect((JSON.parse(sink.received.at(-1)!.body) as { event: { source: string } }).event.source).toBe('after-restart');
    expect(sink.received).toHaveLength(before + 1);
  });
});
