/**
 * @module The alarm lifecycle (docs/operations.md "Alarms"), pure: what a transition from an alarm job, an
 * acknowledgement, a clear or an assignment makes of an alarm. One alarm is open per (owner, type, source):
 * a raise while it is open adds to its count (and may change its severity); a clear closes it, and the next
 * raise opens a new one. `status` is `active` until acknowledged or cleared; a cleared alarm stays cleared.
 * Every change that people are told about queues a note in the alarm's own outbox, written with the change.
 */
import type { AlarmTransition, Severity } from '@ferry/rules';
import { ALARM_LIMITS, type Alarm, type HistoryEntry, type NoteKind, type StoredAlarm } from './types.ts';

const withHistory = (a: StoredAlarm, e: HistoryEntry): readonly HistoryEntry[] => [...a.history, e].slice(-ALARM_LIMITS.historyPerAlarm);

function note(a: StoredAlarm, kind: NoteKind, atMs: number): Pick<StoredAlarm, 'pending' | 'noteSeq'> {
  return { pending: [...a.pending, { seq: a.noteSeq + 1, kind, atMs }], noteSeq: a.noteSeq + 1 };
}

export const isOpen = (a: Pick<Alarm, 'status'>): boolean => a.status !== 'cleared';

/** What an alarm job's transition does to the open alarm of its (owner, type, source): the alarm to save, or undefined (nothing changes). */
export function applyTransition(
  open: StoredAlarm | undefined,
  t: AlarmTransition,
  o: { readonly owner: string | undefined; readonly newId: () => string; readonly command: boolean },
): StoredAlarm | undefined {
  if (t.kind === 'clear') {
    if (open === undefined) return undefined;
    return close(open, t.atMs, undefined, t.reason);
  }
  if (open === undefined) {
    const fresh: StoredAlarm = {
      id: o.newId(),
      ...(o.owner !== undefined && { owner: o.owner }),
      type: t.type,
      source: t.source,
      severity: t.severity,
      status: 'active',
      acknowledged: false,
      count: 1,
      rule: t.rule,
      reason: t.reason,
      ...(t.value !== undefined && { value: t.value }),
      firstMs: t.atMs,
      lastMs: t.atMs,
      history: [{ atMs: t.atMs, what: 'raised', detail: t.reason }],
      version: 1,
      pending: [],
      noteSeq: 0,
      notifiedMs: t.atMs,
      ...(o.command && { commandDue: true }),
    };
    return { ...fresh, ...note(fresh, 'alarm.raised', t.atMs) };
  }
  let a: StoredAlarm = {
    ...open,
    count: open.count + 1,
    lastMs: Math.max(open.lastMs, t.atMs),
    reason: t.reason,
    ...(t.value !== undefined && { value: t.value }),
    version: open.version + 1,
    history: withHistory(open, { atMs: t.atMs, what: 'repeated', detail: t.reason }),
  };
  if (t.severity !== open.severity) a = changeSeverity(a, t.severity, t.atMs);
  return a;
}

function changeSeverity(a: StoredAlarm, severity: Severity, atMs: number): StoredAlarm {
  return { ...a, severity, history: withHistory(a, { atMs, what: 'severity', detail: `${a.severity} -> ${severity}` }) };
}

/** Clears an open alarm (a clear transition, or a person); undefined when it is cleared already. */
export function close(a: StoredAlarm, atMs: number, by: string | undefined, reason?: string): StoredAlarm | undefined {
  if (!isOpen(a)) return undefined;
  const next: StoredAlarm = {
    ...a,
    status: 'cleared',
    clearedMs: atMs,
    lastMs: Math.max(a.lastMs, atMs),
    version: a.version + 1,
    history: withHistory(a, { atMs, what: 'cleared', ...(by !== undefined && { by }), ...(reason !== undefined && { detail: reason }) }),
  };
  return { ...next, ...note(a, 'alarm.cleared', atMs) };
}

/** Acknowledges an alarm (open or cleared); undefined when it is acknowledged already. */
export function acknowledge(a: StoredAlarm, atMs: number, by: string | undefined): StoredAlarm | undefined {
  if (a.acknowledged) return undefined;
  return {
    ...a,
    acknowledged: true,
    status: a.status === 'active' ? 'acknowledged' : a.status,
    ackMs: atMs,
    version: a.version + 1,
    history: withHistory(a, { atMs, what: 'acknowledged', ...(by !== undefined && { by }) }),
    ...note(a, 'alarm.acknowledged', atMs),
  };
}

/** Sets or removes the assignee; undefined when it is already so. */
export function assign(a: StoredAlarm, assignee: string | null, atMs: number, by: string | undefined): StoredAlarm | undefined {
  if ((a.assignee ?? null) === assignee) return undefined;
  const { assignee: _old, ...rest } = a;
  return {
    ...rest,
    ...(assignee !== null && { assignee }),
    version: a.version + 1,
    history: withHistory(a, { atMs, what: 'assigned', ...(by !== undefined && { by }), detail: assignee ?? '(none)' }),
  };
}

/** A repeated notification is due: active (neither acknowledged nor cleared) and `repeatMs` since the last. */
export function repeatDue(a: StoredAlarm, repeatMs: number, nowMs: number): StoredAlarm | undefined {
  if (repeatMs <= 0 || a.status !== 'active' || nowMs - (a.notifiedMs ?? a.firstMs) < repeatMs) return undefined;
  return { ...a, version: a.version + 1, notifiedMs: nowMs, ...note(a, 'alarm.repeated', nowMs) };
}

/** The notes handed over (the first `n`) and the command done, dropped from the outbox. */
export function delivered(a: StoredAlarm, n: number, commandDone: boolean): StoredAlarm {
  const { commandDue, ...rest } = a;
  return { ...rest, pending: a.pending.slice(n), version: a.version + 1, ...(commandDue === true && !commandDone && { commandDue }) };
}

/** The alarm as the API answers it: without what the service keeps beside it; with its history or not. */
export function view(a: StoredAlarm, history: boolean): Alarm {
  const { version: _v, pending: _p, noteSeq: _s, notifiedMs: _n, commandDue: _c, history: h, ...rest } = a;
  return history ? { ...rest, history: h } : rest;
}

/** The transition's identity: the same (rule, kind, source, atMs) applied twice changes nothing. */
export const transitionKey = (t: AlarmTransition): string => JSON.stringify([t.rule, t.kind, t.source, t.atMs]);
