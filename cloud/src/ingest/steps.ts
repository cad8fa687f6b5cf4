/**
 * @module The ingest pipeline as a list of small named steps (after aedes' publish pipeline):
 * verify -> sequence (anti-replay + re-order + groups, one atomic ReorderStore call) -> events -> store ->
 * dispatch. A step returns nothing, or a promise only when the port it calls answered with one, so a
 * pipeline over synchronous ports runs without a single microtask.
 */
import { verify, type KeyLookup, type Message } from '@ferry/message';
import { countRejected, countReleased, type IngestCounters } from './counters.ts';
import { IngestError } from './errors.ts';
import type { ApplyResult, Arrival, MaybePromise, Point, ReorderStore, SourceRelease, TimeSeriesStore } from './ports.ts';
import type { GroupReason, SeqOutcome } from './reorder-types.ts';

export interface GroupEventMember {
  readonly part: number;
  readonly sq: number;
  readonly at: number;
  readonly message: Message;
  /** The transport topic it arrived on, when ingest was told (IngestInput.topic). */
  readonly topic?: string | undefined;
}

/** What subscribers receive, per source in (ep, sq) order; `topic` as for GroupEventMember. */
export type IngestEvent =
  | {
      readonly type: 'message';
      readonly kid: string;
      readonly stream: string;
      readonly ep: number;
      readonly sq: number;
      readonly at: number;
      readonly message: Message;
      readonly topic?: string | undefined;
    }
  | {
      readonly type: 'group';
      readonly kid: string;
      readonly stream: string;
      readonly ep: number;
      readonly id: number;
      readonly parts: number;
      readonly complete: boolean;
      readonly missing: readonly number[];
      readonly reason: GroupReason;
      readonly members: readonly GroupEventMember[];
    }
  | { readonly type: 'gap'; readonly kid: string; readonly ep: number; readonly from: number; readonly to: number };

export type Subscriber = (event: IngestEvent) => void | Promise<void>;

/**
 * The fate of one token. Acknowledge the transport for every status except 'failed' (nothing was recorded:
 * try again) and 'rate_limited' (nothing was recorded yet: hold it back `retryAfterMs`, then try again, so
 * the acknowledgement paces the sender). Redelivering a rejected, duplicate, replayed or late message cannot
 * change its fate.
 */
export interface IngestOutcome {
  readonly status: SeqOutcome | 'rejected' | 'rate_limited' | 'failed';
  readonly kid?: string;
  readonly ep?: number;
  readonly sq?: number;
  /** Set for every status but 'accepted'. */
  readonly error?: IngestError;
  /** Events (messages, groups, gaps) this call released, of any source touched. */
  readonly released: number;
  /** 'rate_limited': when the device's bucket holds a token again (ms from now). */
  readonly retryAfterMs?: number;
}

export interface Deps {
  readonly keys: KeyLookup;
  readonly reorder: ReorderStore<Arrival>;
  readonly series: TimeSeriesStore;
  readonly streamOf: (message: Message) => string;
  readonly subscribers: ReadonlySet<Subscriber>;
  readonly counters: IngestCounters;
  /** Told of failures that do not stop the pipeline (store, subscriber), for logs. */
  readonly onError: (error: IngestError) => void;
  /**
   * Inside a transaction (IngestOptions.transaction) a failed append throws, so the transaction rolls back
   * and the message is not acknowledged; outside one it is counted and the pipeline goes on.
   */
  readonly strictStore: boolean;
  /** Per-kid token buckets, when a device rate is set. */
  readonly limiter?: DeviceLimiter | undefined;
}

/**
 * A token bucket per device (kid): `perSecond` tokens a second, at most `burst`. Written here rather than taken
 * from a library: it is a few lines on the injected clock, synchronous on the hot path, and bounded (the
 * least recently seen buckets are evicted beyond `maxDevices`, which only ever lets a device through).
 */
export class DeviceLimiter {
  readonly perSecond: number;
  readonly burst: number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #max: number;
  constructor(rate: { readonly perSecond: number; readonly burst: number }, maxDevices = 100_000) {
    if (!(rate.perSecond > 0) || !(rate.burst >= 1)) throw new IngestError('FERRY_INGEST_CONFIG', 'deviceRate needs perSecond > 0 and burst >= 1');
    this.perSecond = rate.perSecond;
    this.burst = rate.burst;
    this.#max = maxDevices;
  }
  /** Takes one token for `kid` at `now` (ms); false when its bucket is empty. */
  take(kid: string, now: number): boolean {
    let b = this.#buckets.get(kid);
    if (b === undefined) {
      if (this.#buckets.size >= this.#max) this.#buckets.delete(this.#buckets.keys().next().value!);
      b = { tokens: this.burst, at: now };
    } else {
      this.#buckets.delete(kid); // re-inserted below: the Map's order is least recently seen first
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
      b.at = now;
    }
    this.#buckets.set(kid, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

export interface Ctx {
  readonly token?: string | Uint8Array;
  /** The transport topic the token arrived on; it travels with the message through the re-order buffer. */
  readonly topic?: string | undefined;
  /** The kid the transport names (IngestInput.kid); a verified message of another kid is rejected. */
  readonly expectKid?: string | undefined;
  readonly now: number;
  message?: Message;
  outcome?: IngestOutcome;
  /** Set when the incoming message goes no further and nothing was released. */
  done: boolean;
  released: readonly SourceRelease<Arrival>[];
  events: IngestEvent[];
  /** An append failed: the outbox is not confirmed, so the releases come again after the lease. */
  storeFailed?: boolean;
}

export interface Step {
  readonly name: string;
  readonly run: (ctx: Ctx, deps: Deps) => MaybePromise<void>;
}

export const isPromise = <T>(v: MaybePromise<T>): v is Promise<T> => typeof (v as { then?: unknown } | null)?.then === 'function';

const ERROR_OF = { duplicate: 'FERRY_INGEST_DUPLICATE', replay: 'FERRY_INGEST_REPLAY', late: 'FERRY_INGEST_LATE', jump: 'FERRY_INGEST_SEQ_JUMP' } as const;

/** MAC, alg, size, claims (docs/message-format.md "Verification order"); nothing unverified goes further. */
export const verifyStep: Step = {
  name: 'verify',
  run(ctx, deps) {
    const r = verify(ctx.token ?? '', deps.keys);
    if (r.ok && (ctx.expectKid === undefined || r.value.header.kid === ctx.expectKid)) {
      ctx.message = r.value;
      return;
    }
    if (r.ok) {
      deps.counters.topic_mismatch++;
      ctx.outcome = {
        status: 'rejected',
        error: new IngestError('FERRY_INGEST_TOPIC_MISMATCH', `a message of ${r.value.header.kid} on the topic of ${ctx.expectKid}`),
        released: 0,
      };
      ctx.done = true;
      return;
    }
    countRejected(deps.counters, r.error.code);
    ctx.outcome = { status: 'rejected', error: new IngestError('FERRY_INGEST_REJECTED', r.error.message, r.error), released: 0 };
    ctx.done = true;
  },
};

/** The per-device flood limit, after the MAC (an unverified message cannot spend another device's tokens). */
export const limitStep: Step = {
  name: 'limit',
  run(ctx, deps) {
    if (deps.limiter === undefined) return;
    const { kid, ep, sq } = ctx.message!.header;
    if (deps.limiter.take(kid, ctx.now)) return;
    deps.counters.rate_limited++;
    const retryAfterMs = Math.ceil(1000 / deps.limiter.perSecond);
    ctx.outcome = {
      status: 'rate_limited',
      kid,
      ep,
      sq,
      error: new IngestError('FERRY_INGEST_RATE_LIMITED', `${kid} sent more than ${deps.limiter.perSecond}/s (burst ${deps.limiter.burst}); held back`),
      released: 0,
      retryAfterMs,
    };
    ctx.done = true;
  },
};

function applied(ctx: Ctx, deps: Deps, m: Message, r: ApplyResult<Arrival>): void {
  const { kid, ep, sq } = m.header;
  deps.counters[r.outcome]++;
  ctx.outcome =
    r.outcome === 'accepted'
      ? { status: 'accepted', kid, ep, sq, released: 0 }
      : { status: r.outcome, kid, ep, sq, error: new IngestError(ERROR_OF[r.outcome], `${kid} ep ${ep} sq ${sq}`), released: 0 };
  ctx.released = r.outbox === undefined ? [{ kid, released: r.released }] : [{ kid, released: r.released, outbox: r.outbox, recovered: r.recovered ?? 0 }];
}

function storeFailed(ctx: Ctx, deps: Deps, m: Message, e: unknown): void {
  const { kid, ep, sq } = m.header;
  deps.counters.reorder_store_error++;
  ctx.outcome = { status: 'failed', kid, ep, sq, error: new IngestError('FERRY_INGEST_REORDER_STORE', String(e), e), released: 0 };
  ctx.done = true;
}

/** Anti-replay, re-order and group assembly: one atomic call per message to the source's state. */
export const sequenceStep: Step = {
  name: 'sequence',
  run(ctx, deps) {
    const m = ctx.message!;
    const h = m.header;
    let r: MaybePromise<ApplyResult<Arrival>>;
    try {
      r = deps.reorder.apply(h.kid, { ep: h.ep, sq: h.sq, group: h.group, ref: { message: m, topic: ctx.topic } }, ctx.now);
    } catch (e) {
      storeFailed(ctx, deps, m, e);
      return;
    }
    if (!isPromise(r)) return applied(ctx, deps, m, r);
    return r.then(
      (v) => applied(ctx, deps, m, v),
      (e: unknown) => storeFailed(ctx, deps, m, e),
    );
  },
};

/** Turns released items into events (counting them); a group's stream is its first part's. */
export const eventsStep: Step = {
  name: 'events',
  run(ctx, deps) {
    for (const { kid, released, recovered } of ctx.released) {
      countReleased(deps.counters, released);
      deps.counters.recovered += recovered ?? 0;
      for (const r of released) {
        if (r.type === 'gap') ctx.events.push({ type: 'gap', kid, ep: r.ep, from: r.from, to: r.to });
        else if (r.type === 'message') {
          const { message, topic } = r.ref;
          ctx.events.push({ type: 'message', kid, stream: deps.streamOf(message), ep: r.ep, sq: r.sq, at: r.at, message, topic });
        } else {
          const members = r.members.map((x) => ({ part: x.part, sq: x.sq, at: x.at, message: x.ref.message, topic: x.ref.topic }));
          // A released group has at least one member: groups are opened by a part.
          const { ep, id, parts, complete, missing, reason } = r;
          ctx.events.push({ type: 'group', kid, stream: deps.streamOf(members[0]!.message), ep, id, parts, complete, missing, reason, members });
        }
      }
    }
  },
};

const dataOf = (m: Message): unknown => m.claims['d'] ?? null;

/** The point a message or group leaves in its stream; gaps are not points (they are events and counters). */
export function pointOf(e: IngestEvent): { stream: string; point: Point } | undefined {
  if (e.type === 'gap') return undefined;
  if (e.type === 'message') return { stream: e.stream, point: { ts: e.at, kid: e.kid, ep: e.ep, sq: e.sq, value: dataOf(e.message) } };
  const values: unknown[] = new Array<unknown>(e.parts).fill(null);
  for (const m of e.members) values[m.part] = dataOf(m.message);
  const first = e.members[0]!;
  const ts = Math.max(...e.members.map((m) => m.at));
  return { stream: e.stream, point: { ts, kid: e.kid, ep: e.ep, sq: first.sq, value: { group: e.id, parts: e.parts, missing: e.missing, values } } };
}

function storeError(ctx: Ctx, deps: Deps, stream: string, e: unknown): void {
  if (deps.strictStore) throw e;
  ctx.storeFailed = true;
  deps.counters.store_error++;
  deps.onError(new IngestError('FERRY_INGEST_STORE', `append to ${stream}: ${String(e)}`, e));
}

function subscriberError(deps: Deps, e: unknown): void {
  deps.counters.subscriber_error++;
  deps.onError(new IngestError('FERRY_INGEST_SUBSCRIBER', String(e), e));
}

/**
 * A late arrival (its seq was recorded as a gap, or its epoch is closed) is authentic and was never stored:
 * it is not released (order is kept, the gap stays a gap for subscribers), but its point is stored, so the
 * series has every message that reached the cloud, e.g. one held for a worker that was down. A verified
 * message below the window ('replay') is kept the same way: the series ignores a (kid, ep, sq) it already
 * has, so a replay changes nothing, while an authentic message that the window passed before it arrived (a
 * sender held back far behind the rest of its stream) is not lost. A 'jump' (a glitched counter) is kept too,
 * for the operator to see; it moves nothing.
 */
function latePoint(ctx: Ctx, deps: Deps): { stream: string; point: Point } | undefined {
  const m = ctx.message;
  const status = ctx.outcome?.status;
  if ((status !== 'late' && status !== 'replay' && status !== 'jump') || m === undefined) return undefined;
  if (status === 'late') deps.counters.late_stored++;
  else if (status === 'replay') deps.counters.replay_stored++;
  const { kid, ep, sq } = m.header;
  return { stream: deps.streamOf(m), point: { ts: ctx.now, kid, ep, sq, value: dataOf(m) } };
}

/** Appends each released message and group (and a late arrival) to its stream; a failed append is counted, not fatal. */
export const storeStep: Step = {
  name: 'store',
  run(ctx, deps) {
    let waits: Promise<void>[] | undefined;
    const late = latePoint(ctx, deps);
    if (late !== undefined) waits = append(ctx, deps, late, waits);
    for (const e of ctx.events) {
      const p = pointOf(e);
      if (p !== undefined) waits = append(ctx, deps, p, waits);
    }
    return waits === undefined ? undefined : Promise.all(waits).then(() => undefined);
  },
};

/** One append; a promise (async stores) is collected into `waits`, created on first need (no allocation otherwise). */
function append(ctx: Ctx, deps: Deps, p: { stream: string; point: Point }, waits: Promise<void>[] | undefined): Promise<void>[] | undefined {
  try {
    const r = deps.series.append(p.stream, p.point);
    if (isPromise(r)) {
      waits ??= [];
      waits.push(r.catch((e: unknown) => storeError(ctx, deps, p.stream, e)));
    }
  } catch (e) {
    storeError(ctx, deps, p.stream, e);
  }
  return waits;
}

/**
 * Confirms the outbox entries of what was stored (stores with an outbox: ports.ts `confirm`). Not awaited:
 * an unconfirmed entry is only released again after its lease, and the series ignores a second append.
 * After a failed append nothing is confirmed, so the lease retries the store.
 */
export const confirmStep: Step = {
  name: 'confirm',
  run(ctx, deps) {
    if (ctx.storeFailed === true || deps.reorder.confirm === undefined) return;
    for (const { kid, outbox } of ctx.released) {
      if (outbox === undefined || outbox.length === 0) continue;
      try {
        const r = deps.reorder.confirm(kid, outbox);
        if (isPromise(r)) r.catch((e: unknown) => confirmError(deps, kid, e));
      } catch (e) {
        confirmError(deps, kid, e);
      }
    }
  },
};

function confirmError(deps: Deps, kid: string, e: unknown): void {
  deps.counters.confirm_error++;
  deps.onError(new IngestError('FERRY_INGEST_REORDER_STORE', `confirming the outbox of ${kid}: ${String(e)}`, e));
}

/** Hands every event to every subscriber; one failing subscriber never stops the others. */
export const dispatchStep: Step = {
  name: 'dispatch',
  run(ctx, deps) {
    for (const e of ctx.events) {
      for (const s of deps.subscribers) {
        try {
          const r = s(e);
          // Not awaited: a slow subscriber must not hold up ingest; its failure is still counted.
          if (isPromise(r)) r.catch((x: unknown) => subscriberError(deps, x));
        } catch (x) {
          subscriberError(deps, x);
        }
      }
    }
  },
};

export const INGEST_STEPS: readonly Step[] = [verifyStep, limitStep, sequenceStep, eventsStep, storeStep, confirmStep, dispatchStep];
/** What tick() and flush() run on the releases of a timeout. */
export const RELEASE_STEPS: readonly Step[] = [eventsStep, storeStep, confirmStep, dispatchStep];

/** Runs the steps in order, synchronously until a step returns a promise. */
export function runSteps(steps: readonly Step[], ctx: Ctx, deps: Deps, from = 0): MaybePromise<void> {
  for (let i = from; i < steps.length && !ctx.done; i++) {
    const r = steps[i]!.run(ctx, deps);
    if (isPromise(r)) return r.then(() => runSteps(steps, ctx, deps, i + 1));
  }
  return undefined;
}
