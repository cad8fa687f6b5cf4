/**
 * @module The ingest pipeline (docs/ingest.md): `ingest(token, {topic, now})` runs verify -> sequence ->
 * events -> store -> dispatch over injected ports; `tick(now)` releases what timed out; `flush(now)` releases all.
 * Synchronous end to end when the ports are (the in-memory defaults are), else it returns a promise.
 */
import type { KeyLookup, Message } from '@ferry/message';
import { newCounters, snapshot, type IngestCounters } from './counters.ts';
import { MemoryReorderStore } from './memory-reorder-store.ts';
import { MemoryTimeSeries } from './memory-time-series.ts';
import type { Arrival, Clock, MaybePromise, ReorderStore, SourceRelease, TimeSeriesStore } from './ports.ts';
import type { ReorderConfig } from './reorder-types.ts';
import { IngestError } from './errors.ts';
import {
  confirmStep,
  DeviceLimiter,
  dispatchStep,
  eventsStep,
  INGEST_STEPS,
  isPromise,
  limitStep,
  RELEASE_STEPS,
  runSteps,
  sequenceStep,
  storeStep,
  verifyStep,
  type Ctx,
  type Deps,
  type IngestOutcome,
  type Step,
  type Subscriber,
} from './steps.ts';

/** With a transaction: what runs inside it, and what runs after the commit. */
const ATOMIC: readonly Step[] = [sequenceStep, eventsStep, storeStep];
const ATOMIC_RELEASE: readonly Step[] = [eventsStep, storeStep];
const AFTER_COMMIT: readonly Step[] = [confirmStep, dispatchStep];

export interface IngestOptions {
  /** Device keys by kid (required: there is no safe default). */
  readonly keys: KeyLookup;
  /** Defaults to a MemoryReorderStore with `reorderConfig`. */
  readonly reorder?: ReorderStore<Arrival>;
  /** Only used when `reorder` is not given. */
  readonly reorderConfig?: Partial<ReorderConfig>;
  /** Defaults to a MemoryTimeSeries. */
  readonly series?: TimeSeriesStore;
  /** Defaults to Date.now; tests inject a fake clock. */
  readonly clock?: Clock;
  /** The stream a message belongs to; defaults to `<kid>/<ev>` (`<kid>/event` without `ev`). */
  readonly streamOf?: (message: Message) => string;
  /** Told of failures that do not stop the pipeline (FERRY_INGEST_STORE, FERRY_INGEST_SUBSCRIBER); default: none. */
  readonly onError?: (error: IngestError) => void;
  /**
   * Runs sequence -> events -> store as ONE transaction (e.g. SQLite, where the reorder state and the series
   * share a file: `f => db.transaction(f).immediate()`), so a release is stored in the commit that takes it
   * out of the buffer: a crash between the two cannot lose it. Subscribers hear of events after the commit.
   * A failed append then rolls the whole step back (status 'failed': not acknowledged, redelivered). The
   * ports must answer synchronously inside it.
   */
  readonly transaction?: <T>(f: () => T) => T;
  /**
   * A flood limit per device: a token bucket per verified kid on the injected clock. Beyond it a message is
   * answered `rate_limited` with `retryAfterMs` and nothing is recorded: the transport holds it back (no
   * acknowledgement yet) and offers it again, which paces the sender; it is never dropped. Default: none.
   */
  readonly deviceRate?: { readonly perSecond: number; readonly burst: number };
}

/** What travels into ingest with a token besides its bytes. */
export interface IngestInput {
  /** The transport topic it arrived on: its released events carry it, however long it waited in the buffer. */
  readonly topic?: string | undefined;
  /** Arrival time (ms); default: the clock. */
  readonly now?: number | undefined;
  /**
   * The source the transport says sent it (the kid in an uplink topic). A verified message of another kid is
   * rejected (`topic_mismatch`): rules and subscribers trust the topic, so a device's valid message replayed on
   * another device's topic must not reach them as that device's.
   */
  readonly kid?: string | undefined;
}

export const defaultStreamOf = (m: Message): string => {
  const ev = m.claims['ev'];
  return `${m.header.kid}/${typeof ev === 'string' && ev !== '' ? ev : 'event'}`;
};

/** A throwing user `streamOf` must not crash ingest: such a message goes to its default stream instead. */
function safeStreamOf(f: ((m: Message) => string) | undefined): (m: Message) => string {
  if (f === undefined) return defaultStreamOf;
  return (m) => {
    try {
      const s = f(m);
      return typeof s === 'string' && s !== '' ? s : defaultStreamOf(m);
    } catch {
      return defaultStreamOf(m);
    }
  };
}

export class Ingest {
  readonly reorder: ReorderStore<Arrival>;
  readonly series: TimeSeriesStore;
  readonly clock: Clock;
  /** The step names, in order (for docs, logs and tests). */
  readonly steps: readonly string[] = INGEST_STEPS.map((s) => s.name);
  readonly #subscribers = new Set<Subscriber>();
  readonly #counters = newCounters();
  readonly #deps: Deps;
  readonly #tx: (<T>(f: () => T) => T) | undefined;

  constructor(opts: IngestOptions) {
    this.reorder = opts.reorder ?? new MemoryReorderStore<Arrival>(opts.reorderConfig);
    this.series = opts.series ?? new MemoryTimeSeries();
    this.clock = opts.clock ?? { now: () => Date.now() };
    this.#deps = {
      keys: opts.keys,
      reorder: this.reorder,
      series: this.series,
      streamOf: safeStreamOf(opts.streamOf),
      subscribers: this.#subscribers,
      counters: this.#counters,
      onError: opts.onError ?? (() => {}),
      strictStore: opts.transaction !== undefined,
      limiter: opts.deviceRate === undefined ? undefined : new DeviceLimiter(opts.deviceRate),
    };
    this.#tx = opts.transaction;
  }

  /**
   * One token (bytes as received, or text), with its topic (a number is `now`, for tests and benchmarks).
   * Never throws; see IngestOutcome for when to acknowledge.
   */
  ingest(token: string | Uint8Array, input: number | IngestInput = {}): MaybePromise<IngestOutcome> {
    const ctx: Ctx =
      typeof input === 'number'
        ? { token, now: input, done: false, released: [], events: [] }
        : { token, topic: input.topic, expectKid: input.kid, now: input.now ?? this.clock.now(), done: false, released: [], events: [] };
    const finish = (): IngestOutcome => ({ ...ctx.outcome!, released: ctx.events.length });
    if (this.#tx !== undefined) {
      verifyStep.run(ctx, this.#deps);
      if (!ctx.done) limitStep.run(ctx, this.#deps);
      if (!ctx.done) this.#atomic(ctx, () => runSteps(ATOMIC, ctx, this.#deps));
      if (!ctx.done) runSteps(AFTER_COMMIT, ctx, this.#deps);
      return finish();
    }
    const r = runSteps(INGEST_STEPS, ctx, this.#deps);
    return isPromise(r) ? r.then(finish) : finish();
  }

  /** Runs `f` in the transaction; on a rollback the counters are restored and the outcome is 'failed'. */
  #atomic(ctx: Ctx, f: () => unknown): void {
    const saved = { ...this.#counters };
    try {
      this.#tx!(() => {
        if (isPromise(f())) throw new IngestError('FERRY_INGEST_REORDER_STORE', 'IngestOptions.transaction needs ports that answer synchronously');
      });
    } catch (e) {
      Object.assign(this.#counters, saved);
      this.#counters.store_error++;
      const err = e instanceof IngestError ? e : new IngestError('FERRY_INGEST_STORE', `transaction rolled back: ${String(e)}`, e);
      this.#deps.onError(err);
      const m = ctx.message?.header;
      ctx.outcome = { status: 'failed', ...(m !== undefined && { kid: m.kid, ep: m.ep, sq: m.sq }), error: err, released: 0 };
      ctx.events = [];
      ctx.released = [];
      ctx.done = true;
    }
  }

  /** Releases what timed out at `now` (call it from a timer); returns the number of events released. */
  tick(now: number = this.clock.now()): MaybePromise<number> {
    return this.#release(() => this.reorder.tick(now), now);
  }

  /** Releases everything buffered, gaps and incomplete groups included (shutdown, drain). */
  flush(now: number = this.clock.now()): MaybePromise<number> {
    return this.#release(() => this.reorder.flush(now), now);
  }

  /**
   * Resets one source's sequencing (POST /api/devices/<kid>/reset-sequence): what it had buffered is released
   * and stored as a flush would, then its window is forgotten, so its next message starts a fresh one. For a
   * board that lost its boot counter (its messages arrive under an older epoch and stay 'late') or whose
   * counter glitched ('jump'). Returns the number of events released.
   */
  forgetSource(kid: string, now: number = this.clock.now()): MaybePromise<number> {
    return this.#release(() => this.reorder.forget(kid, now), now);
  }

  /** Adds a subscriber; returns the function that removes it. */
  subscribe(fn: Subscriber): () => void {
    this.#subscribers.add(fn);
    return () => {
      this.#subscribers.delete(fn);
    };
  }

  /** A snapshot of the counters (a copy: later increments do not show in it). */
  counters(): IngestCounters {
    return snapshot(this.#counters);
  }

  #release(get: () => MaybePromise<readonly SourceRelease<Arrival>[]>, now: number): MaybePromise<number> {
    if (this.#tx !== undefined) {
      const ctx: Ctx = { now, done: false, released: [], events: [] };
      this.#atomic(ctx, () => {
        const got = get();
        if (isPromise(got)) return got;
        ctx.released = got;
        return runSteps(ATOMIC_RELEASE, ctx, this.#deps);
      });
      if (!ctx.done) runSteps(AFTER_COMMIT, ctx, this.#deps);
      return ctx.events.length;
    }
    const run = (released: readonly SourceRelease<Arrival>[]): MaybePromise<number> => {
      const ctx: Ctx = { now, done: false, released, events: [] };
      const r = runSteps(RELEASE_STEPS, ctx, this.#deps);
      return isPromise(r) ? r.then(() => ctx.events.length) : ctx.events.length;
    };
    const failed = (): number => {
      this.#counters.reorder_store_error++;
      return 0;
    };
    let got: MaybePromise<readonly SourceRelease<Arrival>[]>;
    try {
      got = get();
    } catch {
      return failed();
    }
    return isPromise(got) ? got.then(run, failed) : run(got);
  }
}

/** Same as `new Ingest(opts)`. */
export const createIngest = (opts: IngestOptions): Ingest => new Ingest(opts);
