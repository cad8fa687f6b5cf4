/**
 * @module The ingest pipeline (issue 4 §2): `ingest(token, now)` runs verify -> sequence -> events ->
 * store -> dispatch over injected ports; `tick(now)` releases what timed out; `flush(now)` releases all.
 * Synchronous end to end when the ports are (the in-memory defaults are), else it returns a promise.
 */
import type { KeyLookup, Message } from '@ferry/message';
import { newCounters, snapshot, type IngestCounters } from './counters.ts';
import type { IngestError } from './errors.ts';
import { MemoryReorderStore } from './memory-reorder-store.ts';
import { MemoryTimeSeries } from './memory-time-series.ts';
import type { Clock, MaybePromise, ReorderStore, SourceRelease, TimeSeriesStore } from './ports.ts';
import type { ReorderConfig } from './reorder-types.ts';
import { INGEST_STEPS, isPromise, RELEASE_STEPS, runSteps, type Ctx, type Deps, type IngestOutcome, type Subscriber } from './steps.ts';

export interface IngestOptions {
  /** Device keys by kid (required: there is no safe default). */
  readonly keys: KeyLookup;
  /** Defaults to a MemoryReorderStore with `reorderConfig`. */
  readonly reorder?: ReorderStore<Message>;
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
  readonly reorder: ReorderStore<Message>;
  readonly series: TimeSeriesStore;
  readonly clock: Clock;
  /** The step names, in order (for docs, logs and tests). */
  readonly steps: readonly string[] = INGEST_STEPS.map((s) => s.name);
  readonly #subscribers = new Set<Subscriber>();
  readonly #counters = newCounters();
  readonly #deps: Deps;

  constructor(opts: IngestOptions) {
    this.reorder = opts.reorder ?? new MemoryReorderStore<Message>(opts.reorderConfig);
    this.series = opts.series ?? new MemoryTimeSeries();
    this.clock = opts.clock ?? { now: () => Date.now() };
    this.#deps = {
      keys: opts.keys, reorder: this.reorder, series: this.series, streamOf: safeStreamOf(opts.streamOf),
      subscribers: this.#subscribers, counters: this.#counters, onError: opts.onError ?? (() => {}),
    };
  }

  /** One token (bytes as received, or text). Never throws; see IngestOutcome for when to acknowledge. */
  ingest(token: string | Uint8Array, now: number = this.clock.now()): MaybePromise<IngestOutcome> {
    const ctx: Ctx = { token, now, done: false, released: [], events: [] };
    const finish = (): IngestOutcome => ({ ...ctx.outcome!, released: ctx.events.length });
    const r = runSteps(INGEST_STEPS, ctx, this.#deps);
    return isPromise(r) ? r.then(finish) : finish();
  }

  /** Releases what timed out at `now` (call it from a timer); returns the number of events released. */
  tick(now: number = this.clock.now()): MaybePromise<number> {
    return this.#release(() => this.reorder.tick(now), now);
  }

  /** Releases everything buffered, gaps and incomplete groups included (shutdown, drain). */
  flush(now: number = this.clock.now()): MaybePromise<number> {
    return this.#release(() => this.reorder.flush(now), now);
  }

  /** Adds a subscriber; returns the function that removes it. */
  subscribe(fn: Subscriber): () => void {
    this.#subscribers.add(fn);
    return () => { this.#subscribers.delete(fn); };
  }

  /** A snapshot of the counters (a copy: later increments do not show in it). */
  counters(): IngestCounters {
    return snapshot(this.#counters);
  }

  #release(get: () => MaybePromise<readonly SourceRelease<Message>[]>, now: number): MaybePromise<number> {
    const run = (released: readonly SourceRelease<Message>[]): MaybePromise<number> => {
      const ctx: Ctx = { now, done: false, released, events: [] };
      const r = runSteps(RELEASE_STEPS, ctx, this.#deps);
      return isPromise(r) ? r.then(() => ctx.events.length) : ctx.events.length;
    };
    const failed = (): number => { this.#counters.reorder_store_error++; return 0; };
    let got: MaybePromise<readonly SourceRelease<Message>[]>;
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
