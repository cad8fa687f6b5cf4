/**
 * The alarm service's hand-over to a real notifier (SQLite, a webhook sink on loopback): a note handed over
 * twice (a crash after the notifier took it, before the alarm recorded it) is delivered once; a note left in
 * the outbox (a crash before the hand-over) is delivered by the next sweep; repeats follow the rule.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlarmTransition } from '@ferry/rules';
import { afterAll, describe, expect, it } from 'vitest';
import { applyTransition } from './lifecycle.ts';
import { AlarmService } from './service.ts';
import { SqliteAlarmStore } from './sqlite-store.ts';
import { httpSink, type HttpSink, rig, until } from '../notify/test-sinks.case.ts';
import type { AlarmRule } from './types.ts';

const sinks: HttpSink[] = [];
afterAll(async () => {
  for (const s of sinks) await s.close();
});

const t = (kind: 'raise' | 'clear', atMs: number): AlarmTransition => ({ kind, type: 'hot', source: 'd1', severity: 'minor', atMs, rule: 'ar-1', reason: 'r' });
const RULE = { id: 'ar-1', repeatMs: 0 } as AlarmRule;

async function setup(rule: AlarmRule = RULE) {
  const sink = await httpSink();
  sinks.push(sink);
  const r = rig(join(mkdtempSync(join(tmpdir(), 'ferry-alarm-svc-')), 'cloud.db'));
  const { channel } = await r.channel({ kind: 'webhook', config: { url: sink.url } });
  await r.subscribe({ channelId: channel.id, kinds: ['alarm.*'] });
  r.notifier.start();
  const store = new SqliteAlarmStore(r.db);
  const service = new AlarmService({ store, notifier: r.notifier, enqueue: async () => undefined, rule: async () => rule, log: () => undefined });
  return { sink, r, store, service };
}
const kinds = (sink: HttpSink): string[] => sink.received.map((x) => (JSON.parse(x.body) as { event: { kind: string } }).event.kind);

describe('alarm service and the notifier', () => {
  it('delivers a note handed over twice once, and one left in the outbox on the next sweep', async () => {
    const { sink, r, store, service } = await setup();
    await service.transition('alice', t('raise', 100));
    await until(() => sink.received.length === 1, 'the raised notification');
    // As if the process died after the notifier took the note and before the alarm recorded it: handed over again.
    const a = (await store.openAlarm('alice', 'hot', 'd1'))!;
    expect(await store.save({ ...a, version: a.version + 1, pending: [{ seq: 1, kind: 'alarm.raised', atMs: 100 }] })).toBe('ok');
    await service.sweep();
    // As if the process died after the clear was saved, before the hand-over: the note waits in the outbox.
    const open = (await store.openAlarm('alice', 'hot', 'd1'))!;
    const cleared = applyTransition(open, t('clear', 200), { owner: 'alice', newId: () => 'x', command: false })!;
    expect(await store.save(cleared)).toBe('ok');
    await service.sweep();
    await until(() => sink.received.length >= 2, 'the cleared notification');
    await r.notifier.idle();
    await new Promise((res) => setTimeout(res, 200));
    expect(kinds(sink)).toEqual(['alarm.raised', 'alarm.cleared']);
    expect((await store.live()).length).toBe(0);
    await r.notifier.stop();
  });

  it('repeats the notification every repeatMs while active, and stops once acknowledged', async () => {
    const { sink, r, store, service } = await setup({ ...RULE, repeatMs: 150 });
    await service.transition('alice', t('raise', Date.now()));
    await until(() => sink.received.length === 1, 'the raised notification');
    await until(async () => {
      await service.sweep();
      return sink.received.length >= 2;
    }, 'a repeat');
    const a = (await store.openAlarm('alice', 'hot', 'd1'))!;
    await service.ack(a.id, 'op');
    await until(() => kinds(sink).includes('alarm.acknowledged'), 'the acknowledged notification');
    const n = sink.received.length;
    for (let i = 0; i < 4; i++) {
      await new Promise((res) => setTimeout(res, 100));
      await service.sweep();
    }
    await r.notifier.idle();
    expect(sink.received.length).toBe(n);
    expect(kinds(sink).filter((k) => k === 'alarm.raised')).toEqual(['alarm.raised']);
    expect(kinds(sink)).toContain('alarm.repeated');
    await r.notifier.stop();
  });
});
