/** The alarm lifecycle, pure (lifecycle.ts): what each transition and each person's action makes of an alarm, and which notes it queues. */
import type { AlarmTransition } from '@ferry/rules';
import { describe, expect, it } from 'vitest';
import { acknowledge, applyTransition, assign, close, delivered, repeatDue, view } from './lifecycle.ts';
import { ALARM_LIMITS } from './types.ts';

const t = (kind: 'raise' | 'clear', atMs: number, severity: AlarmTransition['severity'] = 'minor'): AlarmTransition => ({
  kind,
  type: 'hot',
  source: 'd1',
  severity,
  value: 40,
  atMs,
  rule: 'ar-1',
  reason: 'temp > 30',
});
const opts = { owner: 'alice', newId: () => 'al-1', command: true };
const raised = applyTransition(undefined, t('raise', 100), opts)!;
const kinds = (a: { pending: readonly { kind: string }[] }): string[] => a.pending.map((p) => p.kind);

describe('alarm lifecycle', () => {
  it('opens an active alarm on a raise, notified once, with its command due', () => {
    expect(raised).toMatchObject({
      status: 'active',
      acknowledged: false,
      count: 1,
      firstMs: 100,
      lastMs: 100,
      severity: 'minor',
      commandDue: true,
      version: 1,
    });
    expect(kinds(raised)).toEqual(['alarm.raised']);
    expect(applyTransition(undefined, t('clear', 100), opts)).toBeUndefined();
  });

  it('counts a raise on the open alarm without a note, and records a new severity', () => {
    const again = applyTransition(raised, t('raise', 200, 'critical'), opts)!;
    expect([again.count, again.lastMs, again.severity, again.version]).toEqual([2, 200, 'critical', 2]);
    expect(kinds(again)).toEqual(['alarm.raised']);
    expect(again.history.map((h) => [h.what, h.detail])).toEqual([
      ['raised', 'temp > 30'],
      ['repeated', 'temp > 30'],
      ['severity', 'minor -> critical'],
    ]);
  });

  it('acknowledges an active alarm, and a cleared one stays cleared; neither twice', () => {
    const acked = acknowledge(raised, 150, 'op-1')!;
    expect([acked.status, acked.acknowledged, acked.ackMs, kinds(acked)]).toEqual(['acknowledged', true, 150, ['alarm.raised', 'alarm.acknowledged']]);
    expect(acknowledge(acked, 160, 'op-1')).toBeUndefined();
    const cleared = close(raised, 170, undefined, 'temp back')!;
    expect([cleared.status, cleared.clearedMs, kinds(cleared)]).toEqual(['cleared', 170, ['alarm.raised', 'alarm.cleared']]);
    expect(close(cleared, 180, 'op-1')).toBeUndefined();
    const ackCleared = acknowledge(cleared, 190, 'op-1')!;
    expect([ackCleared.status, ackCleared.acknowledged]).toEqual(['cleared', true]);
  });

  it('assigns and unassigns, recording who', () => {
    const a = assign(raised, 'carol', 120, 'op-1')!;
    expect(a.assignee).toBe('carol');
    expect(assign(a, 'carol', 130, 'op-1')).toBeUndefined();
    const none = assign(a, null, 140, 'op-2')!;
    expect(none.assignee).toBeUndefined();
    expect(none.history.at(-1)).toEqual({ atMs: 140, what: 'assigned', by: 'op-2', detail: '(none)' });
  });

  it('repeats a notification every repeatMs while active only', () => {
    expect(repeatDue(raised, 0, 10_000)).toBeUndefined();
    expect(repeatDue(raised, 1000, 1099)).toBeUndefined();
    const r = repeatDue(raised, 1000, 1100)!;
    expect([kinds(r), r.notifiedMs]).toEqual([['alarm.raised', 'alarm.repeated'], 1100]);
    expect(repeatDue(r, 1000, 2000)).toBeUndefined();
    expect(repeatDue(acknowledge(raised, 150, undefined)!, 1000, 5000)).toBeUndefined();
  });

  it('drops the notes handed over, keeps a command not yet done, and keeps the newest history only', () => {
    const half = delivered(raised, 1, false);
    expect([half.pending, half.commandDue]).toEqual([[], true]);
    expect(delivered(raised, 1, true).commandDue).toBeUndefined();
    let a = raised;
    for (let i = 0; i < ALARM_LIMITS.historyPerAlarm + 10; i++) a = applyTransition(a, t('raise', 200 + i), opts)!;
    expect(a.history.length).toBe(ALARM_LIMITS.historyPerAlarm);
    expect(a.history[0]!.what).toBe('repeated');
    expect(Object.keys(view(a, false))).not.toContain('pending');
    expect(view(a, true).history?.length).toBe(ALARM_LIMITS.historyPerAlarm);
  });
});
