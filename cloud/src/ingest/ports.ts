/**
 * @module The ingest pipeline's ports: clock, key lookup, reorder store and time-series store.
 * Each may answer synchronously or with a promise (MaybePromise); the pipeline stays synchronous, with no
 * per-message microtask, as long as every port answers synchronously (the in-memory ones do).
 */
import type { Clock as BaseClock } from '@ferry/base';
import type { KeyLookup, Message } from '@ferry/message';
import type { ReorderConfig, Released, SeqMessage, SeqOutcome } from './reorder-types.ts';

export type MaybePromise<T> = T | Promise<T>;

/** The pipeline reads only the wall clock (arrival times, re-order timeouts): any Clock fits; tests inject a fake one. */
export type Clock = Pick<BaseClock, 'now'>;

/** Keys by source id. Synchronous on purpose: keys are cached in memory; a miss is FERRY_MSG_UNKNOWN_KEY. */
export type { KeyLookup };

/**
 * What the pipeline hands its ReorderStore to hold until release: the verified message and the transport
 * topic it arrived on, so a message released later (after its gap filled, a timeout, a restart) still
 * reaches its subscribers with that topic. JSON, like every ref a persistent store keeps.
 */
export interface Arrival {
  readonly message: Message;
  readonly topic?: string | undefined;
}

/** What the reorder store returns for one message of one source. */
export interface ApplyResult<R> {
  readonly outcome: SeqOutcome;
  readonly released: readonly Released<R>[];
  /**
   * Stores with an outbox (Redis): the outbox entries `released` came from. Confirm them with
   * `ReorderStore.confirm` once every point is stored; unconfirmed ones are released again after a lease.
   */
  readonly outbox?: readonly number[];
  /** How many of `released` are such re-releases (their first taker never confirmed them). */
  readonly recovered?: number;
}

/** Releases made by a timeout or flush, per source. */
export interface SourceRelease<R> {
  readonly kid: string;
  readonly released: readonly Released<R>[];
  /** As in ApplyResult. */
  readonly outbox?: readonly number[];
  readonly recovered?: number;
}

/**
 * Per-source sequencing state (current epoch, next expected seq, pending buffer, seen bitmap, open groups).
 * Contract: each call is ATOMIC per source and behaves exactly as `reorderStep` / `reorderTick` /
 * `reorderFlush` (reorder.ts) on that source's state; calls for different sources are independent. This is
 * what lets Redis implement `apply` as one Lua script on keys hash-tagged `ferry:{kid}:...` and SQLite as
 * one transaction. `reorder-store.case.ts` is the conformance suite every implementation runs.
 */
export interface ReorderStore<R> {
  readonly config: ReorderConfig;
  apply(kid: string, msg: SeqMessage<R>, now: number): MaybePromise<ApplyResult<R>>;
  /** Applies the timeouts due at `now` for every source that has something buffered. */
  tick(now: number): MaybePromise<readonly SourceRelease<R>[]>;
  /** Releases everything buffered for every source (shutdown, drain). */
  flush(now: number): MaybePromise<readonly SourceRelease<R>[]>;
  /**
   * An operator's reset of one source (a board that lost its boot counter, a glitched counter): releases what
   * it has buffered, as flush does, then forgets its state, so its next message starts a fresh window.
   */
  forget(kid: string, now: number): MaybePromise<readonly SourceRelease<R>[]>;
  /**
   * Stores whose state lives apart from the time series (Redis) keep each release in a per-source outbox
   * until the taker confirms it stored them; a taker that dies in between (kill -9) is covered by the next
   * call on that source, or a tick, after a lease: the entries are released again. Together with an
   * idempotent time series (a point is identified by (kid, ep, sq)) every release is stored exactly once.
   * Stores that commit with the series in one transaction (SQLite, `IngestOptions.transaction`) need none.
   */
  confirm?(kid: string, outbox: readonly number[]): MaybePromise<void>;
}

/** One point of a stream. `ts` is the server arrival time (ms); order within a source is (ep, sq). */
export interface Point {
  readonly ts: number;
  readonly kid: string;
  readonly ep: number;
  readonly sq: number;
  readonly value: unknown;
}

/** At most `count` points of a range: the first ones, or with `newest` the last ones (still in ts order). */
export interface QueryLimit {
  readonly count: number;
  readonly newest?: boolean;
}

/**
 * Time series per stream. `query` returns points with from <= ts < to, by ts then append order; with a
 * `limit`, only its first (or newest) `count` of them, read no further than that (what a reader outside may
 * ask is bounded by it). A point is identified in its stream by (kid, ep, sq): appending one again is a no-op
 * that keeps the first, so the store step can be repeated after a crash without storing anything twice.
 */
export interface TimeSeriesStore {
  append(stream: string, point: Point): MaybePromise<void>;
  query(stream: string, from: number, to: number, limit?: QueryLimit): MaybePromise<readonly Point[]>;
}
