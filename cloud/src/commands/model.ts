/**
 * @module The command lifecycle as pure functions over one device's queue (docs/actions.md "Lifecycle"):
 * queued -> sent -> delivered -> acked | rejected, or expired (past its time to live) or failed (attempts
 * used up, dropped on overflow, cancelled). Both stores (SQLite embedded, Redis scale-out) run these inside
 * one atomic read-modify-write of the device's queue, so the rules are written once. At most one command
 * per device is in flight (sent or delivered): the next goes when it is answered or times out, so the
 * device sees commands in priority order and its (ep, sq) replay window never sees them out of order.
 */
import type { Json } from '@ferry/message';

export const PRIORITIES = ['high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];
export const STATES = ['queued', 'sent', 'delivered', 'acked', 'rejected', 'expired', 'failed'] as const;
export type CommandState = (typeof STATES)[number];
export const FINAL_STATES: readonly CommandState[] = ['acked', 'rejected', 'expired', 'failed'];
export const isFinal = (s: CommandState): boolean => FINAL_STATES.includes(s);

export type Overflow = 'reject-new' | 'drop-oldest-low-priority';

export interface CommandRecord {
  readonly id: string;
  readonly device: string;
  /** The device's owner when the command was made (undefined: a device of no owner, the cloud admin's). */
  readonly owner?: string | undefined;
  readonly cmd: { readonly [k: string]: Json };
  readonly priority: Priority;
  /** Who asked: `api`, `broadcast:<id>`, `rule`, or what a caller of CommandService.enqueue names. */
  readonly source: string;
  readonly broadcast?: string | undefined;
  /** Order of arrival in the device's queue (FIFO within a lane). */
  readonly seq: number;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly state: CommandState;
  readonly attempts: number;
  readonly updatedAt: number;
  /** Sent: redelivered (or failed) if not answered by then. */
  readonly visibleAt?: number | undefined;
  /** The cloud's (ep, sq) of the last delivery. */
  readonly ep?: number | undefined;
  readonly sq?: number | undefined;
  /** Why it was rejected or failed: the device's reason, `attempts`, `overflow`, `cancelled`. */
  readonly reason?: string | undefined;
  /** Every state it entered, with when (the dashboard's timeline); bounded by the attempts a command gets. */
  readonly history?: readonly { readonly state: CommandState; readonly at: number }[] | undefined;
}

/** One device's live commands and its command (ep, sq) counter, shared by every worker. */
export interface DeviceQueue {
  readonly device: string;
  readonly live: readonly CommandRecord[];
  readonly ep: number;
  readonly sq: number;
  readonly nextSeq: number;
  /**
   * When a queue with commands waiting and none in flight is looked at again (the sweep then sends if the
   * device is online): what a sender that died between queueing and sending left behind is picked up.
   */
  readonly recheckAt?: number | undefined;
}

export const emptyQueue = (device: string): DeviceQueue => ({ device, live: [], ep: 0, sq: -1, nextSeq: 0 });

export interface QueuePolicy {
  readonly depth: number;
  readonly overflow: Overflow;
  readonly visibilityMs: number;
  readonly maxAttempts: number;
}

/** What an update did: the queue after it, and the commands that reached a final state in it. */
export interface Step<T> {
  readonly next: DeviceQueue;
  readonly finished: readonly CommandRecord[];
  readonly result: T;
}

const rank = (p: Priority): number => PRIORITIES.indexOf(p);
const inFlight = (r: CommandRecord): boolean => r.state === 'sent' || r.state === 'delivered';
/** `r`'s history with `state` entered at `now` appended. */
const entered = (r: Pick<CommandRecord, 'history'>, state: CommandState, now: number) => ({ history: [...(r.history ?? []), { state, at: now }] });
const finish = (r: CommandRecord, state: CommandState, now: number, reason?: string): CommandRecord => ({
  ...r,
  state,
  updatedAt: now,
  ...entered(r, state, now),
  visibleAt: undefined,
  ...(reason !== undefined && { reason }),
});

/** Adds a command (seq is assigned here); may drop one queued command of lower priority, or refuse. */
export function enqueue(
  q: DeviceQueue,
  r: Omit<CommandRecord, 'seq' | 'state' | 'attempts' | 'updatedAt'>,
  policy: QueuePolicy,
): Step<{ accepted: CommandRecord } | { refused: 'full' }> {
  const rec: CommandRecord = { ...r, seq: q.nextSeq, state: 'queued', attempts: 0, updatedAt: r.createdAt, ...entered(r, 'queued', r.createdAt) };
  let live = q.live;
  const finished: CommandRecord[] = [];
  if (live.length >= policy.depth) {
    // The victim: the oldest queued command of the lowest lane below the new one's (never one in flight).
    const victim =
      policy.overflow === 'drop-oldest-low-priority'
        ? live
            .filter((x) => x.state === 'queued' && rank(x.priority) > rank(rec.priority))
            .sort((a, b) => rank(b.priority) - rank(a.priority) || a.seq - b.seq)[0]
        : undefined;
    if (victim === undefined) return { next: q, finished: [], result: { refused: 'full' } };
    live = live.filter((x) => x !== victim);
    finished.push(finish(victim, 'failed', r.createdAt, 'overflow'));
  }
  return { next: { ...q, live: [...live, rec], nextSeq: q.nextSeq + 1, recheckAt: r.createdAt + policy.visibilityMs }, finished, result: { accepted: rec } };
}

/**
 * Expiry and visibility timeouts at `now`: a command past its expiry is expired; one in flight past its
 * visibility timeout goes back to the queue (keeping its place), or fails once it used up its attempts.
 */
export function sweep(q: DeviceQueue, now: number, policy: QueuePolicy): Step<undefined> {
  const finished: CommandRecord[] = [];
  const live: CommandRecord[] = [];
  for (const r of q.live) {
    if (r.expiresAt <= now) finished.push(finish(r, 'expired', now));
    else if (inFlight(r) && (r.visibleAt ?? 0) <= now) {
      if (r.attempts >= policy.maxAttempts) finished.push(finish(r, 'failed', now, 'attempts'));
      else live.push({ ...r, state: 'queued', visibleAt: undefined, updatedAt: now, ...entered(r, 'queued', now) });
    } else live.push(r);
  }
  const recheck = !live.some(inFlight) && live.length > 0 && (q.recheckAt ?? 0) <= now;
  if (finished.length === 0 && !recheck && live.every((r, i) => r === q.live[i])) return { next: q, finished, result: undefined };
  return { next: { ...q, live, ...(recheck && { recheckAt: now + policy.visibilityMs }) }, finished, result: undefined };
}

/**
 * Takes the next command to send when none is in flight: one that timed out first (it may have been
 * applied with its answer still on the way), else the highest lane, oldest first. It becomes `sent` with one
 * more attempt. A command sent before goes again under the same (ep, sq) while nothing was signed for the
 * device after it: a device that applied it refuses the copy as a replay, so a late answer never costs a
 * second application. Otherwise it takes the device's next (ep, sq): `ep` is the sender's downlink epoch,
 * or the queue's if another worker's was higher, so the sequence only grows whoever sends.
 */
export function claim(q: DeviceQueue, now: number, ep: number, policy: QueuePolicy): Step<CommandRecord | undefined> {
  const s = sweep(q, now, policy);
  const live = s.next.live;
  if (live.some(inFlight)) return { ...s, result: undefined };
  const pick = live
    .filter((r) => r.state === 'queued')
    .sort((a, b) => Number(b.attempts > 0) - Number(a.attempts > 0) || rank(a.priority) - rank(b.priority) || a.seq - b.seq)[0];
  if (pick === undefined) return { ...s, result: undefined };
  const again = pick.ep !== undefined && pick.ep === s.next.ep && pick.sq === s.next.sq;
  const useEp = again ? s.next.ep : Math.max(ep, s.next.ep);
  const sq = again ? s.next.sq : useEp === s.next.ep ? s.next.sq + 1 : 0;
  const sent: CommandRecord = {
    ...pick,
    state: 'sent',
    attempts: pick.attempts + 1,
    visibleAt: now + policy.visibilityMs,
    ep: useEp,
    sq,
    updatedAt: now,
    ...entered(pick, 'sent', now),
  };
  return { next: { ...s.next, ep: useEp, sq, live: live.map((r) => (r === pick ? sent : r)) }, finished: s.finished, result: sent };
}

/** The transport acknowledged the delivery with (ep, sq): sent -> delivered. */
export function delivered(q: DeviceQueue, id: string, ep: number, sq: number, now: number): Step<boolean> {
  const r = q.live.find((x) => x.id === id);
  if (r?.state !== 'sent' || r.ep !== ep || r.sq !== sq) return { next: q, finished: [], result: false };
  const d: CommandRecord = { ...r, state: 'delivered', updatedAt: now, ...entered(r, 'delivered', now) };
  return { next: { ...q, live: q.live.map((x) => (x === r ? d : x)) }, finished: [], result: true };
}

/**
 * The device's signed answer. `acked` and `rejected` are final and take the command out of the queue; a
 * `rejected` for `replayed` is not (the device saw that token, or an older one, before: the ack of the
 * earlier delivery decides, or the visibility timeout redelivers). An answer for a command not live is
 * ignored (answered twice, cancelled, or expired meanwhile).
 */
export function answer(q: DeviceQueue, id: string, status: 'acked' | 'rejected', reason: string | undefined, now: number): Step<CommandRecord | undefined> {
  const r = q.live.find((x) => x.id === id);
  if (r === undefined || r.state === 'queued' || (status === 'rejected' && reason === 'replayed')) return { next: q, finished: [], result: undefined };
  const f = finish(r, status, now, status === 'rejected' ? (reason ?? 'unknown') : undefined);
  return { next: { ...q, live: q.live.filter((x) => x !== r) }, finished: [f], result: f };
}

/** Cancels a live command (`failed`, reason `cancelled`); one already sent may still be applied by the device. */
export function cancel(q: DeviceQueue, id: string, now: number): Step<CommandRecord | undefined> {
  const r = q.live.find((x) => x.id === id);
  if (r === undefined) return { next: q, finished: [], result: undefined };
  const f = finish(r, 'failed', now, 'cancelled');
  return { next: { ...q, live: q.live.filter((x) => x !== r) }, finished: [f], result: f };
}

/** When the queue next needs a sweep (an expiry, a visibility timeout, a recheck); undefined when it is empty. */
export function nextDue(q: DeviceQueue): number | undefined {
  let due: number | undefined = q.live.length > 0 && !q.live.some(inFlight) ? q.recheckAt : undefined;
  for (const r of q.live) {
    const t = inFlight(r) ? Math.min(r.expiresAt, r.visibleAt ?? r.expiresAt) : r.expiresAt;
    due = due === undefined ? t : Math.min(due, t);
  }
  return due;
}
