/**
 * Alarm rules on a gateway and where transitions are taken from (docs/operations.md "Alarms"): a rule for
 * `gateway:<id>` is installed and started over the gateway's control path; its relayed outputs are taken only
 * from that gateway, on the rule's own topic, and the cloud's own rules host cannot speak for it. Real rules
 * host and SQLite stores; the gateway's control channel is a recording stand-in.
 */
import Database from 'better-sqlite3';
import { RulesHost } from '@ferry/rules-host';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SqliteNotifyStore } from '../storage/sqlite/notify-store.ts';
import { AlarmRules } from './rules.ts';
import { AlarmService } from './service.ts';
import { SqliteAlarmStore } from './sqlite-store.ts';

const DEVICES: Record<string, { owner: string; kind?: string }> = {
  d1: { owner: 'alice' },
  d2: { owner: 'alice' },
  'gw-a': { owner: 'alice', kind: 'gateway' },
  'gw-b': { owner: 'bob', kind: 'gateway' },
};

/** The alarm store; while `failing`, saving an alarm fails as a store that went away does. */
class FlakyStore extends SqliteAlarmStore {
  failing = false;
  override save(...a: Parameters<SqliteAlarmStore['save']>): ReturnType<SqliteAlarmStore['save']> {
    if (this.failing) throw new Error('the store is unreachable');
    return super.save(...a);
  }
}

function setup() {
  const db = new Database(':memory:');
  const store = new FlakyStore(db);
  const notifyStore = new SqliteNotifyStore(db);
  const calls: { gw: string; path: string; body: unknown }[] = [];
  const host = new RulesHost({ runtime: 'cloud', publish: () => undefined });
  const service = new AlarmService({
    store,
    notifier: { store: notifyStore, kick: () => undefined },
    enqueue: async () => undefined,
    rule: (id) => rules.rule(id),
    cleared: (a) => rules.clearedByHand(a),
    log: () => undefined,
  });
  const rules: AlarmRules = new AlarmRules({
    prefix: 'ferry',
    service,
    rules: host,
    registry: new Registry(),
    gatewayRequest: async (gw, _m, path, body) => {
      calls.push({ gw, path, body });
      return path === '/api/install' ? { status: 201, body: { jobId: `gateway:${gw}-1` } } : { status: 200, body: {} };
    },
    device: (id) => DEVICES[id],
    devicesOf: (owner) => Object.keys(DEVICES).filter((id) => DEVICES[id]!.owner === owner && DEVICES[id]!.kind === undefined),
    mayReadStream: async () => false,
    log: () => undefined,
  });
  return { store, notifyStore, rules, service, calls };
}

const RULE = {
  name: 'hot',
  type: 'hot',
  severity: 'major',
  source: { kind: 'telemetry', device: 'd1' },
  value: 'temp',
  condition: { op: '>', threshold: 30 },
  runtime: 'gateway:gw-a',
};
const raise = (atMs: number) => ({
  kind: 'raise',
  type: 'hot',
  source: 'ferry/up/d1/msg',
  severity: 'major',
  value: 31,
  atMs,
  rule: 'gateway:gw-a-1',
  reason: 'temp > 30',
});
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 50));

describe('alarm rules on a gateway', () => {
  it("installs and starts the job over the gateway's control path", async () => {
    const { rules, calls } = setup();
    const r = await rules.create('alice', RULE);
    expect([r.runtime, r.jobId]).toEqual(['gateway:gw-a', 'gateway:gw-a-1']);
    expect(calls.map((c) => [c.gw, c.path])).toEqual([
      ['gw-a', '/api/install'],
      ['gw-a', '/api/start'],
    ]);
    expect(calls[0]!.body).toMatchObject({
      headers: { runtime: 'gateway:gw-a', targetResource: r.id, jobType: 'alarm' },
      jobConfig: { connectors: { input: ['ferry/up/d1/+'], output: `ferry/alarms/alice/${r.id}` }, jobProps: { type: 'hot', value: 'temp' } },
    });
    await expect(rules.create('alice', { ...RULE, runtime: 'gateway:gw-b' })).rejects.toMatchObject({ code: 'FERRY_ALARM_UNKNOWN_GATEWAY', path: 'runtime' });
  });

  it("takes a transition only from the rule's gateway, on the rule's own topic; the cloud's host cannot speak for it", async () => {
    const { rules, store, notifyStore } = setup();
    const r = await rules.create('alice', RULE);
    const topic = `ferry/alarms/alice/${r.id}`;
    rules.fromGateway('gw-b', topic, raise(1000)); // another owner's gateway
    rules.fromGateway('gw-a', `ferry/alarms/bob/${r.id}`, raise(1001)); // the topic names another owner
    rules.fromGateway('gw-a', topic, { kind: 'raise' }); // not a transition
    expect(rules.ruleOutput(topic, JSON.stringify(raise(1002)))).toBe(true); // swallowed, but not the cloud's rule
    expect(rules.ruleOutput('ferry/alerts/x', '{}')).toBe(false);
    await settle();
    expect(await store.listAlarms('all', {}, 10)).toEqual([]);
    rules.fromGateway('gw-a', topic, raise(1003));
    rules.fromGateway('gw-a', topic, raise(1003)); // the outbox sent it twice
    await settle();
    const [a, ...rest] = await store.listAlarms('all', {}, 10);
    expect(rest).toEqual([]);
    expect(a).toMatchObject({ owner: 'alice', type: 'hot', source: 'd1', count: 1, rule: r.id, status: 'active' });
    expect((await notifyStore.inbox(10)).map((e) => [e.id, e.kind, e.owner, e.source])).toEqual([[`alarm-${a!.id}-1`, 'alarm.raised', 'alice', 'hot/d1']]);
  });

  it('keeps a transition the store did not take, and applies it, in order before the later ones, once the store is back', async () => {
    const { rules, store } = setup();
    const rule = await rules.create('alice', { ...RULE, runtime: 'cloud' });
    const now = Date.now();
    store.failing = true;
    rules.telemetry('d1', 'tel', { temp: 31 }, now, 'd1/1/1'); // raise: the store refuses it
    await settle();
    expect(await store.listAlarms('all', {}, 10)).toEqual([]);
    expect((await rules.rule(rule.id))?.unapplied?.map((t) => t.kind)).toEqual(['raise']);
    store.failing = false;
    rules.telemetry('d1', 'tel', { temp: 20 }, now + 1000, 'd1/1/2'); // clear: waits behind the raise
    await settle();
    await rules.save(); // every check period
    const [alarm] = await store.listAlarms('all', {}, 10);
    expect([alarm?.status, alarm?.history.map((h) => h.what)]).toEqual(['cleared', ['raised', 'cleared']]);
    expect((await rules.rule(rule.id))?.unapplied ?? []).toEqual([]);
  });

  it('an alarm cleared by hand while its condition still holds is raised again by the next breaching sample', async () => {
    const { rules, store, service } = setup();
    await rules.create('alice', { ...RULE, runtime: 'cloud' });
    const now = Date.now();
    rules.telemetry('d1', 'tel', { temp: 31 }, now, 'd1/1/1');
    await settle();
    const [raised] = await store.listAlarms('all', {}, 10);
    expect(raised?.status).toBe('active');
    await service.clear(raised!.id, 'ops');
    rules.telemetry('d1', 'tel', { temp: 32 }, now + 1000, 'd1/1/2'); // still too hot
    await settle();
    const open = (await store.listAlarms('all', {}, 10)).filter((a) => a.status === 'active');
    expect(open.map((a) => [a.type, a.source])).toEqual([['hot', 'd1']]);
    expect(open[0]!.id).not.toBe(raised!.id);
  });

  it("one device's clock far ahead does not move the time of a cloud rule's other devices", async () => {
    const { rules, store } = setup();
    await rules.create('alice', {
      ...RULE,
      source: { kind: 'telemetry', device: '*' },
      missing: { afterMs: 300_000, policy: 'breaching' },
      runtime: 'cloud',
    });
    const now = Date.now();
    rules.telemetry('d1', 'tel', { temp: 20 }, now, 'd1/1/1');
    rules.telemetry('d2', 'tel', { temp: 21 }, now + 86_400_000, 'd2/1/1'); // a clock a day ahead
    await settle();
    // d1 sent just now: its five minutes of silence have not run out, whatever d2's clock says.
    expect(await store.listAlarms('all', {}, 10)).toEqual([]);
  });
});
