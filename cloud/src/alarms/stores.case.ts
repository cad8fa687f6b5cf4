/**
 * @module The AlarmStore contract (types.ts), run by each backend's own test against the real thing: SQLite
 * and Redis (stores.test.ts), with the lifecycle (lifecycle.ts) driving the changes as the service does.
 */
import type { AlarmTransition } from '@ferry/rules';
import { describe, expect, it } from 'vitest';
import { acknowledge, applyTransition, close, delivered, transitionKey } from './lifecycle.ts';
import { ALARM_LIMITS, type AlarmRule, type AlarmStore, type StoredAlarm } from './types.ts';

const rule = (id: string, owner: string | undefined, createdMs: number): AlarmRule => ({
  id,
  ...(owner !== undefined && { owner }),
  name: id,
  type: 'hot',
  severity: 'major',
  source: { kind: 'telemetry', device: 'd1' },
  value: 'temp',
  condition: { op: '>', threshold: 30 },
  runtime: 'cloud',
  repeatMs: 0,
  jobId: `cloud-${id}`,
  createdMs,
});
const t = (kind: 'raise' | 'clear', source: string, atMs: number, type = 'hot'): AlarmTransition => ({
  kind,
  type,
  source,
  severity: 'major',
  value: 31,
  atMs,
  rule: 'r1',
  reason: 'temp > 30',
});

let n = 0;
const newId = (): string => `a${++n}`;

/** Applies a transition as the service does; returns what the store answered, or 'none' when nothing changes. */
async function apply(s: AlarmStore, owner: string | undefined, tr: AlarmTransition): Promise<string> {
  const next = applyTransition(await s.openAlarm(owner, tr.type, tr.source), tr, { owner, newId, command: false });
  return next === undefined ? 'none' : s.save(next, transitionKey(tr));
}

export function alarmStoreContract(name: string, make: () => AlarmStore | Promise<AlarmStore>): void {
  describe(`AlarmStore contract: ${name}`, () => {
    it('keeps rules per owner, oldest first, the global ones apart, and forgets deleted ones', async () => {
      const s = await make();
      await s.putRule(rule('r2', 'alice', 20));
      await s.putRule(rule('r1', 'alice', 10));
      await s.putRule(rule('r3', 'bob', 5));
      await s.putRule(rule('g1', undefined, 1));
      expect((await s.listRules({ owner: 'alice' })).map((r) => r.id)).toEqual(['r1', 'r2']);
      expect((await s.listRules({ owner: undefined })).map((r) => r.id)).toEqual(['g1']);
      expect((await s.listRules('all')).map((r) => r.id)).toEqual(['g1', 'r3', 'r1', 'r2']);
      expect(await s.getRule('r3')).toEqual(rule('r3', 'bob', 5));
      await s.deleteRule('r3');
      expect(await s.getRule('r3')).toBeUndefined();
    });

    it('keeps one open alarm per (owner, type, source), counts raises, and opens a new one after a clear', async () => {
      const s = await make();
      expect(await apply(s, 'alice', t('raise', 'd1', 100))).toBe('ok');
      expect(await apply(s, 'alice', t('raise', 'd1', 200))).toBe('ok');
      expect(await apply(s, 'bob', t('raise', 'd1', 150))).toBe('ok');
      const open = await s.openAlarm('alice', 'hot', 'd1');
      expect([open?.count, open?.firstMs, open?.lastMs, open?.status]).toEqual([2, 100, 200, 'active']);
      expect(await s.openCount('alice')).toBe(1);
      expect(await apply(s, 'alice', t('clear', 'd1', 300))).toBe('ok');
      expect(await s.openAlarm('alice', 'hot', 'd1')).toBeUndefined();
      expect(await s.openCount('alice')).toBe(0);
      expect(await apply(s, 'alice', t('clear', 'd1', 310))).toBe('none');
      expect(await apply(s, 'alice', t('raise', 'd1', 400))).toBe('ok');
      const listed = await s.listAlarms({ owner: 'alice' }, {}, 10);
      expect(listed.map((a) => [a.status, a.count, a.firstMs])).toEqual([
        ['active', 1, 400],
        ['cleared', 2, 100],
      ]);
      expect((await s.listAlarms({ owner: 'alice' }, { status: 'cleared' }, 10)).map((a) => a.firstMs)).toEqual([100]);
      expect((await s.listAlarms({ owner: 'alice' }, {}, 1)).map((a) => a.firstMs)).toEqual([400]);
      expect((await s.listAlarms('all', { source: 'd1' }, 10)).map((a) => a.firstMs)).toEqual([400, 150, 100]);
      expect(await s.listAlarms({ owner: 'alice' }, { type: 'cold' }, 10)).toEqual([]);
    });

    it('applies the same transition once, whoever applies it twice', async () => {
      const s = await make();
      expect(await apply(s, 'alice', t('raise', 'd2', 100))).toBe('ok');
      expect(await apply(s, 'alice', t('raise', 'd2', 100))).toBe('duplicate');
      expect((await s.openAlarm('alice', 'hot', 'd2'))?.count).toBe(1);
      expect(await apply(s, 'alice', t('clear', 'd2', 200))).toBe('ok');
      // The same raise again after the clear: still the one already applied, no new alarm.
      expect(await apply(s, 'alice', t('raise', 'd2', 100))).toBe('duplicate');
      expect(await s.openAlarm('alice', 'hot', 'd2')).toBeUndefined();
    });

    it('refuses a stale version and a second open alarm of the same (owner, type, source)', async () => {
      const s = await make();
      await apply(s, 'alice', t('raise', 'd3', 100));
      const a = (await s.openAlarm('alice', 'hot', 'd3'))!;
      const acked = acknowledge(a, 150, 'op')!;
      expect(await s.save(acked)).toBe('ok');
      expect(await s.save(acked)).toBe('conflict');
      expect(await s.save(close(a, 160, 'op')!)).toBe('conflict');
      const other = applyTransition(undefined, t('raise', 'd3', 170), { owner: 'alice', newId, command: false })!;
      expect(await s.save(other)).toBe('conflict');
      const got = await s.getAlarm(a.id);
      expect([got?.status, got?.acknowledged, got?.ackMs, got?.history.map((h) => h.what)]).toEqual(['acknowledged', true, 150, ['raised', 'acknowledged']]);
    });

    it('lists live alarms: open ones and cleared ones whose notes are not handed over yet', async () => {
      const s = await make();
      await apply(s, 'carol', t('raise', 'x', 100));
      await apply(s, 'carol', t('raise', 'y', 110));
      await apply(s, 'carol', t('clear', 'y', 120));
      const live = (await s.live()).filter((a) => a.owner === 'carol');
      expect(live.map((a) => [a.source, a.pending.map((p) => p.kind)])).toEqual([
        ['x', ['alarm.raised']],
        ['y', ['alarm.raised', 'alarm.cleared']],
      ]);
      const y = live[1]!;
      expect(await s.save(delivered(y, y.pending.length, true))).toBe('ok');
      expect((await s.live()).filter((a) => a.owner === 'carol').map((a) => a.source)).toEqual(['x']);
    });

    it(`keeps an owner's ${ALARM_LIMITS.clearedPerOwner} newest cleared alarms`, async () => {
      const s = await make();
      const keep = ALARM_LIMITS.clearedPerOwner;
      // Cleared alarms written directly (their version 1), oldest first: one more than kept.
      for (let i = 0; i <= keep; i++) {
        const a = applyTransition(undefined, t('raise', `s${i}`, i), { owner: 'dave', newId, command: false })!;
        const c: StoredAlarm = { ...close(a, i, undefined)!, version: 1, pending: [] };
        expect(await s.save(c)).toBe('ok');
      }
      const all = await s.listAlarms({ owner: 'dave' }, {}, ALARM_LIMITS.listMax);
      expect(all.length).toBe(ALARM_LIMITS.listMax);
      expect(await s.listAlarms({ owner: 'dave' }, { source: 's0' }, 10)).toEqual([]);
      expect((await s.listAlarms({ owner: 'dave' }, { source: 's1' }, 10)).length).toBe(1);
    });
  });
}
