/**
 * The alarm REST API (docs/operations.md "Alarms") on a real cloud: typed refusals naming the field, tenancy
 * (another owner's rule or alarm answers 404), metric alarms sampled from the registry, health events as
 * alarms, assignment, and the SSE stream of changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, call } from '@ferry/test-kit/http';
import { until } from '../notify/test-sinks.case.ts';
import type { CloudService } from '../service/service.ts';
import { startTestCloud } from '../service/test-cloud.case.ts';

type Body = Record<string, unknown>;
let cloud: CloudService;
let api: string;
const tokens: Record<string, string> = {};
const b = (r: { body: unknown }): Body => r.body as Body;

beforeAll(async () => {
  ({ svc: cloud, httpUrl: api } = await startTestCloud({ name: 'alarms-api', functionRunner: 'in-process', health: { checkPeriodMs: 100 } }));
  for (const owner of ['alice', 'bob']) {
    const priv = b(await call(api, 'POST', '/api/owners', ADMIN_TOKEN, { id: owner }))['privateToken'] as string;
    tokens[`${owner}-private`] = priv;
    for (const role of ['viewer', 'operator']) tokens[`${owner}-${role}`] = b(await call(api, 'POST', '/api/tokens', priv, { role }))['token'] as string;
  }
  cloud.devices.add('a1', 'home', Date.now(), 'alice');
  cloud.devices.add('b1', 'home', Date.now(), 'bob');
}, 30_000);
afterAll(async () => {
  await cloud?.stop();
});

const RULE = {
  name: 'hot',
  type: 'hot',
  severity: 'minor',
  source: { kind: 'telemetry', device: 'a1' },
  value: 'temp',
  condition: { op: '>', threshold: 30 },
};

describe('alarm rules API', () => {
  it('refuses a malformed or impossible rule with a typed error naming the field', async () => {
    const cases: [token: string, body: unknown, code: string, path: string][] = [
      [tokens['alice-operator']!, { ...RULE, severity: 'dire' }, 'FERRY_ALARM_BAD_REQUEST', 'severity'],
      [tokens['alice-operator']!, { ...RULE, extra: 1 }, 'FERRY_ALARM_BAD_REQUEST', 'extra'],
      [tokens['alice-operator']!, { ...RULE, value: undefined }, 'FERRY_ALARM_BAD_REQUEST', 'value'],
      [tokens['alice-operator']!, { ...RULE, condition: { op: '>', threshold: 'warm' } }, 'FERRY_ALARM_THRESHOLD_TYPE', 'condition.threshold'],
      [tokens['alice-operator']!, { ...RULE, condition: { op: 'between', low: 5, high: 1 } }, 'FERRY_ALARM_THRESHOLD_TYPE', 'condition.high'],
      [tokens['alice-operator']!, { ...RULE, mOfN: { m: 4, n: 3 } }, 'FERRY_ALARM_BAD_REQUEST', 'mOfN.m'],
      [tokens['alice-operator']!, { ...RULE, source: { kind: 'telemetry', device: 'b1' } }, 'FERRY_ALARM_UNKNOWN_DEVICE', 'source.device'],
      [tokens['alice-operator']!, { ...RULE, source: { kind: 'telemetry', device: 'ghost' } }, 'FERRY_ALARM_UNKNOWN_DEVICE', 'source.device'],
      [tokens['alice-operator']!, { ...RULE, source: { kind: 'stream', so: 'nope', stream: 's' } }, 'FERRY_ALARM_UNKNOWN_STREAM', 'source.stream'],
      [tokens['alice-operator']!, { ...RULE, runtime: 'gateway:gw-x' }, 'FERRY_ALARM_UNKNOWN_GATEWAY', 'runtime'],
      [tokens['alice-operator']!, { ...RULE, command: { device: 'b1', name: 'fan' } }, 'FERRY_ALARM_UNKNOWN_DEVICE', 'command.device'],
      [tokens['alice-operator']!, { ...RULE, source: { kind: 'metric', metric: 'ferry_alarms_active' } }, 'FERRY_ALARM_FORBIDDEN', 'source.kind'],
      [ADMIN_TOKEN, { ...RULE, source: { kind: 'metric', metric: 'no_such_metric' } }, 'FERRY_ALARM_UNKNOWN_METRIC', 'source.metric'],
      [ADMIN_TOKEN, { ...RULE, source: { kind: 'metric', metric: 'ferry_cloud_ingest_seconds' } }, 'FERRY_ALARM_UNKNOWN_METRIC', 'source.metric'],
      [tokens['alice-operator']!, { ...RULE, repeatMs: 5 }, 'FERRY_ALARM_BAD_REQUEST', 'repeatMs'],
    ];
    for (const [token, body, code, path] of cases) {
      const r = await call(api, 'POST', '/api/v1/alarm-rules', token, body);
      expect([path, r.status, b(r)['code'], b(r)['path']]).toEqual([path, code === 'FERRY_ALARM_FORBIDDEN' ? 403 : 400, code, path]);
    }
    expect(b(await call(api, 'GET', '/api/v1/alarm-rules', tokens['alice-viewer']!))['rules']).toEqual([]);
    expect((await call(api, 'POST', '/api/v1/alarm-rules', tokens['alice-viewer']!, RULE)).status).toBe(403);
  });

  it("keeps each owner's rules to themselves: another owner's rule answers 404, a global credential sees all", async () => {
    const made = await call(api, 'POST', '/api/v1/alarm-rules', tokens['alice-operator']!, RULE);
    expect(made.status).toBe(201);
    const id = b(made)['id'] as string;
    expect(cloud.rules.engine.list().some((j) => j.jobId === b(made)['jobId'] && j.jobType === 'alarm')).toBe(true);
    expect((await call(api, 'GET', `/api/v1/alarm-rules/${id}`, tokens['bob-viewer']!)).status).toBe(404);
    expect((await call(api, 'DELETE', `/api/v1/alarm-rules/${id}`, tokens['bob-operator']!)).status).toBe(404);
    expect(b(await call(api, 'GET', '/api/v1/alarm-rules', tokens['bob-viewer']!))['rules']).toEqual([]);
    expect((b(await call(api, 'GET', '/api/v1/alarm-rules', ADMIN_TOKEN))['rules'] as Body[]).map((r) => r['id'])).toContain(id);
    expect((await call(api, 'DELETE', `/api/v1/alarm-rules/${id}`, tokens['alice-operator']!)).status).toBe(204);
    expect(cloud.rules.engine.list().some((j) => j.jobId === b(made)['jobId'])).toBe(false);
    expect((await call(api, 'GET', `/api/v1/alarm-rules/${id}`, tokens['alice-viewer']!)).status).toBe(404);
  });
});

describe('alarms API', () => {
  it('raises a global metric alarm from the registry, visible to a global credential only', async () => {
    const made = await call(api, 'POST', '/api/v1/alarm-rules', ADMIN_TOKEN, {
      name: 'any ingest',
      type: 'ingest-count',
      severity: 'indeterminate',
      source: { kind: 'metric', metric: 'ferry_cloud_ingest_seconds:count' },
      condition: { op: '>=', threshold: 0 },
    });
    expect([made.status, b(made)['owner'], b(made)['value']]).toEqual([201, undefined, 'value']);
    await until(async () => (b(await call(api, 'GET', '/api/v1/alarms?type=ingest-count', ADMIN_TOKEN))['alarms'] as Body[]).length === 1, 'the metric alarm');
    expect(b(await call(api, 'GET', '/api/v1/alarms?type=ingest-count', tokens['alice-viewer']!))['alarms']).toEqual([]);
  });

  it('raises and clears component-failing from health events; acks, assigns and streams the changes', async () => {
    const ac = new AbortController();
    const sse = await fetch(`${api}/api/v1/alarms/events`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, signal: ac.signal });
    expect([sse.status, sse.headers.get('content-type')]).toEqual([200, 'text/event-stream']);
    let text = '';
    const reader = sse.body!.getReader();
    void (async () => {
      for (;;) {
        const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
        if (done) return;
        text += Buffer.from(value!).toString('utf8');
      }
    })();
    cloud.notify({ kind: 'component.failing', source: 'rule-job:x', at: Date.now(), priority: 'high', data: {} });
    const find = async (): Promise<Body | undefined> =>
      (b(await call(api, 'GET', '/api/v1/alarms?type=component-failing', ADMIN_TOKEN))['alarms'] as Body[])[0];
    await until(async () => (await find())?.['status'] === 'active', 'the component alarm');
    const a = (await find())!;
    expect([a['source'], a['severity'], a['owner']]).toEqual(['component:rule-job:x', 'major', undefined]);
    const id = a['id'] as string;
    expect((await call(api, 'POST', `/api/v1/alarms/${id}/ack`, tokens['alice-operator']!)).status).toBe(404);
    const assigned = await call(api, 'PUT', `/api/v1/alarms/${id}/assignee`, ADMIN_TOKEN, { assignee: 'carol' });
    expect([assigned.status, b(assigned)['assignee']]).toEqual([200, 'carol']);
    const refused = await call(api, 'PUT', `/api/v1/alarms/${id}/assignee`, ADMIN_TOKEN, { assignee: 7 });
    expect([refused.status, b(refused)['code'], b(refused)['path']]).toEqual([400, 'FERRY_ALARM_BAD_REQUEST', 'assignee']);
    cloud.notify({ kind: 'component.recovered', source: 'rule-job:x', at: Date.now() + 1, data: {} });
    await until(async () => (await find())?.['status'] === 'cleared', 'the clear');
    const one = b(await call(api, 'GET', `/api/v1/alarms/${id}`, ADMIN_TOKEN));
    expect((one['history'] as Body[]).map((h) => h['what'])).toEqual(['raised', 'assigned', 'cleared']);
    await until(() => (text.match(/event: alarm/g) ?? []).length >= 3, 'three alarm events on the stream');
    expect(text).toContain(`"id":"${id}"`);
    ac.abort();
    const bad = await call(api, 'GET', '/api/v1/alarms?status=open', ADMIN_TOKEN);
    expect([bad.status, b(bad)['code'], b(bad)['path']]).toEqual([400, 'FERRY_ALARM_BAD_REQUEST', 'status']);
  });

  it("raises a stream alarm from a composite stream's values, and enqueues the rule's command once per alarm", async () => {
    const priv = tokens['alice-private']!;
    const so = b(await call(api, 'POST', '/api/v1/sos', priv, { streams: { t: { channels: { a: { type: 'number' } } } } }))['id'] as string;
    const made = await call(api, 'POST', '/api/v1/alarm-rules', tokens['alice-operator']!, {
      name: 'high a',
      type: 'high-a',
      severity: 'critical',
      source: { kind: 'stream', so, stream: 't' },
      value: 'a',
      condition: { op: '>=', threshold: 10 },
      command: { device: 'a1', name: 'fan', args: { on: true } },
    });
    expect([made.status, b(made)['code'], b(made)['message']]).toEqual([201, undefined, undefined]);
    const feed = async (a: number, lastUpdate: number): Promise<void> => {
      const r = await call(api, 'PUT', `/api/v1/sos/${so}/streams/t`, priv, { channels: { a: { 'current-value': a } }, lastUpdate });
      expect(r.status).toBe(200);
    };
    const list = async (): Promise<Body[]> => b(await call(api, 'GET', '/api/v1/alarms?type=high-a', tokens['alice-viewer']!))['alarms'] as Body[];
    // The device is offline: its commands wait in its queue (cloud.db, docs/actions.md).
    const commands = async (): Promise<unknown[]> => {
      const row = cloud.db.prepare<[string], { json: string }>('SELECT json FROM cmd_queue WHERE device = ?').get('a1');
      return row === undefined ? [] : (JSON.parse(row.json) as { live: { cmd: unknown }[] }).live.map((c) => c.cmd);
    };
    await feed(12, 1);
    await until(async () => (await list()).length === 1, 'the stream alarm');
    expect((await list())[0]).toMatchObject({ source: `${so}/t`, severity: 'critical', status: 'active' });
    await until(async () => (await commands()).length === 1, 'the command');
    await feed(13, 2); // still breaching: the job raises nothing more
    await feed(3, 3);
    await until(async () => (await list())[0]?.['status'] === 'cleared', 'the clear');
    await feed(20, 4);
    await until(async () => (await list()).length === 2, 'the second alarm');
    await until(async () => (await commands()).length === 2, 'its command');
    await new Promise((r) => setTimeout(r, 300));
    expect(await commands()).toEqual([
      { name: 'fan', args: { on: true } },
      { name: 'fan', args: { on: true } },
    ]);
  });
});
