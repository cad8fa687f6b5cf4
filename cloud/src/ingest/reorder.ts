/**
 * @module The per-source sequencing semantics, written once as pure functions: anti-replay (sliding window
 * on (ep, sq)), re-ordering (buffer released in sequence order, gaps released after W seqs or a timeout),
 * epochs, and group assembly. Every ReorderStore runs these: the in-memory store calls them directly, the
 * SQLite store will call them inside one transaction, and reorder.lua is a line-by-line port for Redis.
 * Never mutates its input; no clock, no I/O: `now` is an argument.
 */
import { IngestError } from './errors.ts';
import { addPart, closeAllGroups, expireGroups } from './groups.ts';
import type { Draft, Pending, ReorderConfig, ReorderState, SeqMessage, SeqOutcome, StepResult, TickResult } from './reorder-types.ts';

export const MAX_WINDOW = 65_536;
/** A seq more than this many windows ahead of the next expected one is a 'jump', not applied. */
export const JUMP_WINDOWS = 4096;
/** An epoch more than this far ahead of the source's is a 'jump', not applied. */
export const MAX_EPOCH_JUMP = 1_000_000;
export const DEFAULT_REORDER_CONFIG: ReorderConfig = { window: 256, timeoutMs: 2_000, groupTimeoutMs: 10_000, maxOpenGroups: 16 };

/** Checks a configuration once, at construction; throws FERRY_INGEST_CONFIG. */
export function checkReorderConfig(cfg: ReorderConfig): ReorderConfig {
  const bad = (what: string): never => {
    throw new IngestError('FERRY_INGEST_CONFIG', what);
  };
  if (!Number.isInteger(cfg.window) || cfg.window < 1 || cfg.window > MAX_WINDOW) bad(`window must be an integer in 1..${MAX_WINDOW}`);
  if (!(cfg.timeoutMs >= 0) || !Number.isFinite(cfg.timeoutMs)) bad('timeoutMs must be a finite number >= 0');
  if (!(cfg.groupTimeoutMs >= 0) || !Number.isFinite(cfg.groupTimeoutMs)) bad('groupTimeoutMs must be a finite number >= 0');
  if (!Number.isInteger(cfg.maxOpenGroups) || cfg.maxOpenGroups < 1 || cfg.maxOpenGroups > 1024) bad('maxOpenGroups must be an integer in 1..1024');
  return cfg;
}

const words = (cfg: ReorderConfig): number => Math.ceil(cfg.window / 32);

/** The state of a source first seen in epoch `ep`: every epoch's sequence starts at 0. */
export function initialState<R>(ep: number, cfg: ReorderConfig): ReorderState<R> {
  return { ep, next: 0, seen: new Array<number>(words(cfg)).fill(0), pending: [], groups: [] };
}

function draft<R>(s: ReorderState<R>, cfg: ReorderConfig): Draft<R> {
  // A bitmap of another size was written under another window; its bits mean nothing now. Zeroing it turns
  // in-window repeats into 'late' instead of 'duplicate': both are dropped, so safety is unchanged.
  const seen = s.seen.length === words(cfg) ? [...s.seen] : new Array<number>(words(cfg)).fill(0);
  return { ep: s.ep, next: s.next, seen, pending: [...s.pending], groups: [...s.groups], out: [] };
}

const freeze = <R>(d: Draft<R>): ReorderState<R> => ({ ep: d.ep, next: d.next, seen: d.seen, pending: d.pending, groups: d.groups });

function setSeen<R>(d: Draft<R>, sq: number, released: boolean, cfg: ReorderConfig): void {
  const i = sq % cfg.window;
  const bit = 1 << (i & 31);
  const w = i >>> 5;
  d.seen[w] = released ? d.seen[w]! | bit : d.seen[w]! & ~bit;
}

/** Records [from, to) as never to be released. Only the last W seqs need their bits cleared. */
function gap<R>(d: Draft<R>, from: number, to: number, cfg: ReorderConfig): void {
  if (to <= from) return;
  for (let s = Math.max(from, to - cfg.window); s < to; s++) setSeen(d, s, false, cfg);
  d.out.push({ type: 'gap', ep: d.ep, from, to });
}

function deliver<R>(d: Draft<R>, p: Pending<R>, now: number, cfg: ReorderConfig): void {
  setSeen(d, p.sq, true, cfg);
  d.next = p.sq + 1;
  if (p.group === undefined) d.out.push({ type: 'message', ep: d.ep, sq: p.sq, at: p.at, ref: p.ref });
  else addPart(d, p.group, { part: p.group.part, sq: p.sq, at: p.at, ref: p.ref }, now, cfg);
}

/** Releases, in order, every buffered message below `limit`, recording the holes; `next` becomes >= limit. */
function releaseBelow<R>(d: Draft<R>, limit: number, now: number, cfg: ReorderConfig): void {
  let n = 0;
  while (n < d.pending.length && d.pending[n]!.sq < limit) {
    const p = d.pending[n++]!;
    gap(d, d.next, p.sq, cfg);
    deliver(d, p, now, cfg);
  }
  d.pending.splice(0, n);
  if (d.next < limit) {
    gap(d, d.next, limit, cfg);
    d.next = limit;
  }
}

/** Releases the run of buffered messages that continues `next` without a hole. */
function releaseRun<R>(d: Draft<R>, now: number, cfg: ReorderConfig): void {
  let n = 0;
  while (n < d.pending.length && d.pending[n]!.sq === d.next) deliver(d, d.pending[n++]!, now, cfg);
  d.pending.splice(0, n);
}

/** Timeouts due at `now`: the buffered messages that waited timeoutMs go, with every hole before them. */
function expire<R>(d: Draft<R>, now: number, cfg: ReorderConfig): void {
  let limit = -1;
  for (const p of d.pending) if (p.at + cfg.timeoutMs <= now) limit = p.sq + 1; // sorted: the last hit is the highest
  if (limit >= 0) {
    releaseBelow(d, limit, now, cfg);
    releaseRun(d, now, cfg);
  }
  expireGroups(d, now, cfg);
}

/** Releases everything buffered (holes become gaps) and every open group, e.g. when an epoch closes. */
function drain<R>(d: Draft<R>, now: number, cfg: ReorderConfig, reason: 'epoch' | 'flush'): void {
  const last = d.pending[d.pending.length - 1];
  if (last !== undefined) releaseBelow(d, last.sq + 1, now, cfg);
  closeAllGroups(d, reason);
}

function indexOfSq<R>(pending: readonly Pending<R>[], sq: number): { found: boolean; at: number } {
  let lo = 0;
  let hi = pending.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pending[mid]!.sq < sq) lo = mid + 1;
    else hi = mid;
  }
  return { found: pending[lo]?.sq === sq, at: lo };
}

/**
 * Anti-replay: classifies a message against the state of its epoch. Runs only on verified messages (the
 * MAC is checked first), so an attacker cannot move a window. Mutates nothing. `fresh`: the source has no
 * state yet (its first message may be anywhere: a device first seen mid-epoch, after a reset).
 */
export function classify<R>(
  s: Pick<ReorderState<R>, 'ep' | 'next' | 'seen' | 'pending'>,
  ep: number,
  sq: number,
  cfg: ReorderConfig,
  fresh = false,
): SeqOutcome | 'new-epoch' {
  if (ep < s.ep) return 'late'; // its epoch is closed: everything pending of it was released when the new one began
  // A glitched counter (a bit flip, an unset variable) must not move the source's window so far that every
  // honest message after it is refused: such a leap is kept aside as a 'jump' (docs/ingest.md).
  if (!fresh && (ep > s.ep + MAX_EPOCH_JUMP || (ep === s.ep && sq >= s.next + cfg.window * JUMP_WINDOWS))) return 'jump';
  if (ep > s.ep) return 'new-epoch';
  if (sq < s.next) {
    if (sq < s.next - cfg.window) return 'replay'; // below the window: seen or not, it cannot be told
    const i = sq % cfg.window;
    const seen = s.seen.length === words(cfg) && ((s.seen[i >>> 5] ?? 0) & (1 << (i & 31))) !== 0;
    return seen ? 'duplicate' : 'late';
  }
  return indexOfSq(s.pending, sq).found ? 'duplicate' : 'accepted';
}

/**
 * One message through anti-replay, re-ordering and group assembly, atomically for its source.
 * Timeouts due at `now` are applied first, so the result never depends on how often tick() runs.
 */
export function reorderStep<R>(state: ReorderState<R> | undefined, msg: SeqMessage<R>, now: number, cfg: ReorderConfig): StepResult<R> {
  const d = draft(state ?? initialState<R>(msg.ep, cfg), cfg);
  expire(d, now, cfg);
  const c = classify(d, msg.ep, msg.sq, cfg, state === undefined);
  if (c === 'new-epoch') {
    // A higher epoch means the source restarted: nothing more of the old epoch is owed, so release it all
    // (holes become gaps, open groups go incomplete) and start the new sequence at 0.
    drain(d, now, cfg, 'epoch');
    d.ep = msg.ep;
    d.next = 0;
    d.seen = new Array<number>(words(cfg)).fill(0);
  } else if (c !== 'accepted') {
    return { state: freeze(d), released: d.out, outcome: c };
  }
  // Too far ahead: slide the window so the buffer never spans more than W seqs (bounded memory per source).
  if (msg.sq >= d.next + cfg.window) releaseBelow(d, msg.sq - cfg.window + 1, now, cfg);
  const p: Pending<R> = msg.group === undefined ? { sq: msg.sq, at: now, ref: msg.ref } : { sq: msg.sq, at: now, group: msg.group, ref: msg.ref };
  d.pending.splice(indexOfSq(d.pending, msg.sq).at, 0, p);
  releaseRun(d, now, cfg);
  return { state: freeze(d), released: d.out, outcome: 'accepted' };
}

/** Applies the timeouts due at `now` (driven by the injected clock through the store's tick). */
export function reorderTick<R>(state: ReorderState<R>, now: number, cfg: ReorderConfig): TickResult<R> {
  const d = draft(state, cfg);
  expire(d, now, cfg);
  return { state: freeze(d), released: d.out };
}

/** Releases everything buffered and every open group now (shutdown, or an operator's drain). */
export function reorderFlush<R>(state: ReorderState<R>, now: number, cfg: ReorderConfig): TickResult<R> {
  const d = draft(state, cfg);
  drain(d, now, cfg, 'flush');
  return { state: freeze(d), released: d.out };
}

/** When the next timeout of this state falls due (ms), or undefined if nothing waits; for due indexes. */
export function nextDeadline<R>(state: ReorderState<R>, cfg: ReorderConfig): number | undefined {
  let t = Infinity;
  for (const p of state.pending) t = Math.min(t, p.at + cfg.timeoutMs);
  for (const g of state.groups) t = Math.min(t, g.since + cfg.groupTimeoutMs);
  return t === Infinity ? undefined : t;
}

/** True when the state holds nothing that a timeout could release. */
export const isIdle = <R>(state: ReorderState<R>): boolean => state.pending.length === 0 && state.groups.length === 0;
