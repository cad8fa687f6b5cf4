/**
 * The alarm rows of the tenant-isolation matrix (its other HTTP rows are http-rows.ts and so-rows.ts): alice's
 * credentials against bob's alarm rules and alarms, on every alarm route (docs/operations.md "Alarms").
 * `seedAlarms` gives each tenant one alarm rule (made over the API) and one open alarm (raised through the
 * cloud's alarm service, as a rule job's transition would).
 */
import { call } from '@ferry/test-kit/http';
import type { CloudService } from '@ferry/cloud';
import { expectStatus, type Row, type Tenant } from './http-rows.ts';

const rules = new Map<string, string>();
const alarms = new Map<string, string>();
const ruleOf = (t: Tenant): string => rules.get(t.id)!;
const alarmOf = (t: Tenant): string => alarms.get(t.id)!;
const rule = (t: Tenant): Record<string, unknown> => ({
  name: 'hot',
  type: 'iso-hot',
  severity: 'minor',
  source: { kind: 'telemetry', device: t.device },
  value: 'temp',
  condition: { op: '>', threshold: 30 },
});

/** One alarm rule and one open alarm per tenant. */
export async function seedAlarms(cloud: CloudService, ...tenants: readonly Tenant[]): Promise<void> {
  const parts = cloud.alarms.parts;
  if (parts === undefined) throw new Error('the alarm service has not started');
  for (const t of tenants) {
    const r = await parts.rules.create(t.id, rule(t));
    rules.set(t.id, r.id);
    await parts.service.transition(t.id, { kind: 'raise', type: 'iso', source: t.device, severity: 'minor', atMs: Date.now(), rule: r.id, reason: 'seeded' });
    const open = await parts.service.store.openAlarm(t.id, 'iso', t.device);
    if (open === undefined) throw new Error(`no seeded alarm for ${t.id}`);
    alarms.set(t.id, open.id);
  }
}

const listed = async (api: string, path: string, token: string, key: string): Promise<string[]> =>
  (((await call(api, 'GET', path, token)).body as Record<string, { id: string }[]> | undefined)?.[key] ?? []).map((x) => x.id);

/** Reads an alarm event stream until `f` holds of what came, or `ms` pass; then closes it. */
async function eventsUntil(api: string, token: string, act: () => Promise<void>, f: (text: string) => boolean, ms = 5000): Promise<string> {
  const ac = new AbortController();
  const r = await fetch(`${api}/api/v1/alarms/events`, { headers: { authorization: `Bearer ${token}` }, signal: ac.signal });
  const reader = r.body!.getReader();
  let text = '';
  const end = Date.now() + ms;
  await act();
  while (!f(text) && Date.now() < end) {
    const next = await Promise.race([reader.read(), new Promise<undefined>((res) => setTimeout(() => res(undefined), end - Date.now()))]);
    if (next === undefined || next.done) break;
    text += Buffer.from(next.value).toString('utf8');
  }
  ac.abort();
  return text;
}

export const ALARM_HTTP_ROWS: readonly Row[] = [
  {
    surface: 'alarms',
    attempt: "read or delete another owner's alarm rule",
    refused: async (api, a, b) =>
      expectStatus(await call(api, 'GET', `/api/v1/alarm-rules/${ruleOf(b)}`, a.admin), 404) ??
      expectStatus(await call(api, 'DELETE', `/api/v1/alarm-rules/${ruleOf(b)}`, a.admin), 404),
    own: async (api, a) => expectStatus(await call(api, 'GET', `/api/v1/alarm-rules/${ruleOf(a)}`, a.viewer), 200),
  },
  {
    surface: 'alarms',
    attempt: "list another owner's alarm rules, whatever owner the query names",
    refused: async (api, a, b) =>
      (await listed(api, `/api/v1/alarm-rules?owner=${b.id}`, a.admin, 'rules')).includes(ruleOf(b)) ? "bob's rule listed" : undefined,
    own: async (api, a) => ((await listed(api, '/api/v1/alarm-rules', a.viewer, 'rules')).includes(ruleOf(a)) ? undefined : 'own rule missing'),
  },
  {
    surface: 'alarms',
    attempt: "make an alarm rule over another owner's device, or in another owner's name",
    refused: async (api, a, b) =>
      expectStatus(await call(api, 'POST', '/api/v1/alarm-rules', a.admin, rule(b)), 400) ??
      expectStatus(await call(api, 'POST', '/api/v1/alarm-rules', a.admin, { ...rule(a), owner: b.id }), 403),
    own: async (api, a) => expectStatus(await call(api, 'POST', '/api/v1/alarm-rules', a.admin, rule(a)), 201),
  },
  {
    surface: 'alarms',
    attempt: "list or read another owner's alarm",
    refused: async (api, a, b) =>
      ((await listed(api, `/api/v1/alarms?owner=${b.id}`, a.admin, 'alarms')).includes(alarmOf(b)) ? "bob's alarm listed" : undefined) ??
      expectStatus(await call(api, 'GET', `/api/v1/alarms/${alarmOf(b)}`, a.admin), 404),
    own: async (api, a) =>
      ((await listed(api, '/api/v1/alarms', a.viewer, 'alarms')).includes(alarmOf(a)) ? undefined : 'own alarm missing') ??
      expectStatus(await call(api, 'GET', `/api/v1/alarms/${alarmOf(a)}`, a.viewer), 200),
  },
  {
    surface: 'alarms',
    attempt: "acknowledge, clear or assign another owner's alarm",
    refused: async (api, a, b) =>
      expectStatus(await call(api, 'POST', `/api/v1/alarms/${alarmOf(b)}/ack`, a.admin), 404) ??
      expectStatus(await call(api, 'POST', `/api/v1/alarms/${alarmOf(b)}/clear`, a.admin), 404) ??
      expectStatus(await call(api, 'PUT', `/api/v1/alarms/${alarmOf(b)}/assignee`, a.admin, { assignee: 'mallory' }), 404),
    own: async (api, a) =>
      expectStatus(await call(api, 'PUT', `/api/v1/alarms/${alarmOf(a)}/assignee`, a.admin, { assignee: 'alice' }), 200) ??
      expectStatus(await call(api, 'POST', `/api/v1/alarms/${alarmOf(a)}/ack`, a.admin), 200),
  },
  {
    surface: 'alarms',
    attempt: "see another owner's alarm changes on the alarm event stream",
    refused: async (api, a, b) => {
      // Bob's alarm changes, then alice's: once alice's event came, bob's would have come before it.
      const text = await eventsUntil(
        api,
        a.viewer,
        async () => {
          await call(api, 'PUT', `/api/v1/alarms/${alarmOf(b)}/assignee`, b.admin, { assignee: `bob-${Date.now()}` });
          await call(api, 'PUT', `/api/v1/alarms/${alarmOf(a)}/assignee`, a.admin, { assignee: `alice-${Date.now()}` });
        },
        (t) => t.includes(alarmOf(a)),
      );
      if (!text.includes(alarmOf(a))) return "alice's own change did not come";
      return text.includes(alarmOf(b)) ? "bob's alarm change reached alice" : undefined;
    },
  },
];
