/**
 * @module Fair sharing of the process pool between owners. Each owner has its own queue and a cap on its
 * calls running at once; the next call to run is taken from the owner with the fewest calls running (ties:
 * the one served least recently), never in arrival order over all calls, so an owner flooding the pool with
 * slow calls holds at most its cap of workers and everyone else's calls wait only behind those. Each owner
 * also has a CPU budget: ms of run time per rolling window, a bucket refilled continuously; an owner who has
 * used it up is refused (FERRY_FN_RATE_LIMITED) until it refills, queued calls included. An owner who is
 * heavy lately (a call of `slowMs` or more, a timeout or a lost worker within the last window, or more than
 * half its budget used) may moreover not hold every worker: one stays free for the others, who would
 * otherwise wait behind its calls; light owners may use the whole pool.
 */
import { fnFail, fnOk, type FnResult } from '@ferry/wasm-host';

export interface FairnessOptions {
  /** Calls of one owner running at once (default 2); more wait in the owner's queue. */
  readonly maxInFlight?: number;
  /** Calls of one owner waiting (default 256); beyond: FERRY_FN_BUSY. */
  readonly maxQueued?: number;
  /** Run time one owner may use per window, ms (default 3000: 30 % of a core over the default window). */
  readonly cpuMs?: number;
  /** The budget's window, ms (default 10 000): the bucket refills cpuMs per windowMs. */
  readonly windowMs?: number;
  /** Monotonic ms the budget is counted on (default performance.now). */
  readonly now?: () => number;
  /** Owners whose budget is remembered; idle owners whose bucket is full again are forgotten first. */
  readonly maxOwners?: number;
  /** Workers in the pool: a heavy owner holds at most workers - 1 (default: no such limit). */
  readonly workers?: number;
  /** A call this long or longer marks its owner slow for a window (default Infinity: never). */
  readonly slowMs?: number;
}

export const DEFAULT_FAIRNESS = { maxInFlight: 2, maxQueued: 256, cpuMs: 3000, windowMs: 10_000 } as const;

/** What the queue needs of a call. */
export interface FairJob {
  readonly owner: string;
  readonly namespace: string;
}

interface Waiting<T> {
  readonly job: T;
  /** Calls of other owners running when this one was queued. */
  readonly behindAtQueue: number;
  /** Dispatches of all owners, and of this owner, when it was queued. */
  readonly totalAtQueue: number;
  readonly ownAtQueue: number;
}

interface Lane<T> {
  readonly queue: Waiting<T>[];
  inFlight: number;
  dispatched: number;
  lastServed: number;
}

interface Budget {
  level: number;
  atMs: number;
  /** Until when the owner counts as slow (monotonic ms). */
  slowUntil: number;
}

/** A job taken to run, with how many calls of other owners it waited behind (for metrics and tests). */
export interface Taken<T> {
  readonly job: T;
  readonly behind: number;
}

export class FairQueue<T extends FairJob> {
  private readonly lanes = new Map<string, Lane<T>>();
  private readonly budgets = new Map<string, Budget>();
  private readonly maxInFlight: number;
  private readonly maxQueued: number;
  private readonly cpuMs: number;
  private readonly windowMs: number;
  private readonly maxOwners: number;
  private readonly workers: number;
  private readonly slowMs: number;
  private readonly now: () => number;
  private total = 0;
  private queued = 0;
  private served = 0;

  constructor(opts: FairnessOptions = {}) {
    this.maxInFlight = opts.maxInFlight ?? DEFAULT_FAIRNESS.maxInFlight;
    this.maxQueued = opts.maxQueued ?? DEFAULT_FAIRNESS.maxQueued;
    this.cpuMs = opts.cpuMs ?? DEFAULT_FAIRNESS.cpuMs;
    this.windowMs = opts.windowMs ?? DEFAULT_FAIRNESS.windowMs;
    this.maxOwners = opts.maxOwners ?? 100_000;
    this.workers = opts.workers ?? Infinity;
    this.slowMs = opts.slowMs ?? Infinity;
    this.now = opts.now ?? (() => performance.now());
  }

  /** Calls waiting, all owners together. */
  get size(): number {
    return this.queued;
  }

  /** Queues a call, or refuses it: owner's queue full (BUSY), budget used up (RATE_LIMITED). */
  push(job: T): FnResult<void> {
    const over = this.overBudget(job.owner);
    if (over !== undefined) return over;
    const lane = this.lane(job.owner);
    if (lane.queue.length >= this.maxQueued) return fnFail('FERRY_FN_BUSY', `${lane.queue.length} calls of owner ${job.owner} already queued`);
    let behind = 0;
    for (const [o, l] of this.lanes) if (o !== job.owner) behind += l.inFlight;
    lane.queue.push({ job, behindAtQueue: behind, totalAtQueue: this.total, ownAtQueue: lane.dispatched });
    this.queued++;
    return fnOk(undefined);
  }

  /**
   * The next call to run: from the eligible owner with the fewest calls running, ties to the one served
   * least recently; within an owner, the oldest call whose namespace is not `running` (calls on one
   * namespace run one at a time, in order). Marks it running. Undefined when nothing may run now.
   */
  take(running: (job: T) => boolean): Taken<T> | undefined {
    let best: { lane: Lane<T>; index: number } | undefined;
    for (const [owner, lane] of this.lanes) {
      if (lane.queue.length === 0 || lane.inFlight >= this.capOf(owner)) continue;
      if (best !== undefined && (lane.inFlight > best.lane.inFlight || (lane.inFlight === best.lane.inFlight && lane.lastServed > best.lane.lastServed)))
        continue;
      const index = firstRunnable(lane.queue, running);
      if (index >= 0) best = { lane, index };
    }
    if (best === undefined) return undefined;
    const { lane, index } = best;
    const [w] = lane.queue.splice(index, 1) as [Waiting<T>];
    this.queued--;
    const otherDispatches = this.total - w.totalAtQueue - (lane.dispatched - w.ownAtQueue);
    lane.inFlight++;
    lane.dispatched++;
    lane.lastServed = ++this.served;
    this.total++;
    return { job: w.job, behind: w.behindAtQueue + otherDispatches };
  }

  /** A call taken by `take` ended after `ms` of run time, charged to its owner's budget. */
  finished(owner: string, ms: number): void {
    const lane = this.lanes.get(owner);
    if (lane !== undefined) {
      lane.inFlight--;
      if (lane.inFlight === 0 && lane.queue.length === 0) this.lanes.delete(owner);
    }
    const b = this.budget(owner);
    b.level -= Math.max(0, ms);
    if (ms >= this.slowMs) b.slowUntil = this.now() + this.windowMs;
  }

  /** Calls the owner may run at once now: fewer than every worker while it is heavy. */
  capOf(owner: string): number {
    if (!this.budgets.has(owner)) return this.maxInFlight;
    const b = this.budget(owner);
    const heavy = b.slowUntil > b.atMs || b.level < this.cpuMs / 2;
    return heavy ? Math.max(1, Math.min(this.maxInFlight, this.workers - 1)) : this.maxInFlight;
  }

  /** Removes the queued calls of owners whose budget is used up; the caller refuses them with the result. */
  dropOverBudget(): { job: T; result: FnResult<never> }[] {
    const out: { job: T; result: FnResult<never> }[] = [];
    for (const [owner, lane] of this.lanes) {
      if (lane.queue.length === 0) continue;
      const over = this.overBudget(owner);
      if (over === undefined) continue;
      const dropped = lane.queue.splice(0);
      this.queued -= dropped.length;
      for (const w of dropped) out.push({ job: w.job, result: over });
      if (lane.inFlight === 0) this.lanes.delete(owner);
    }
    return out;
  }

  /** Every queued call, removed (closing the pool). */
  drain(): T[] {
    const out = [...this.lanes.values()].flatMap((l) => l.queue.splice(0).map((w) => w.job));
    this.queued = 0;
    return out;
  }

  /** The owner's remaining run time in ms (negative: in debt until it refills). */
  remainingMs(owner: string): number {
    return this.budget(owner).level;
  }

  private overBudget(owner: string): FnResult<never> | undefined {
    const b = this.budget(owner);
    if (b.level > 0) return undefined;
    const refillMs = Math.ceil((-b.level + 1) * (this.windowMs / this.cpuMs));
    return fnFail('FERRY_FN_RATE_LIMITED', `owner ${owner} used its CPU budget of ${this.cpuMs} ms per ${this.windowMs} ms; retry in ${refillMs} ms`);
  }

  private lane(owner: string): Lane<T> {
    let lane = this.lanes.get(owner);
    if (lane === undefined) {
      lane = { queue: [], inFlight: 0, dispatched: 0, lastServed: 0 };
      this.lanes.set(owner, lane);
    }
    return lane;
  }

  /** The owner's bucket, refilled up to now. */
  private budget(owner: string): Budget {
    const now = this.now();
    let b = this.budgets.get(owner);
    if (b === undefined) {
      if (this.budgets.size >= this.maxOwners) this.prune(now);
      b = { level: this.cpuMs, atMs: now, slowUntil: 0 };
      this.budgets.set(owner, b);
    } else if (now > b.atMs) {
      b.level = Math.min(this.cpuMs, b.level + ((now - b.atMs) * this.cpuMs) / this.windowMs);
      b.atMs = now;
    }
    return b;
  }

  private prune(now: number): void {
    for (const [o, b] of this.budgets) if (b.slowUntil <= now && b.level + ((now - b.atMs) * this.cpuMs) / this.windowMs >= this.cpuMs) this.budgets.delete(o);
    while (this.budgets.size >= this.maxOwners) this.budgets.delete(this.budgets.keys().next().value!);
  }
}

/** Index of the oldest call whose namespace may start, or -1. */
function firstRunnable<T>(queue: readonly Waiting<T>[], running: (job: T) => boolean): number {
  const blocked = new Set<string>();
  for (let i = 0; i < queue.length; i++) {
    const job = queue[i]!.job as T & FairJob;
    if (blocked.has(job.namespace)) continue;
    if (!running(job)) return i;
    blocked.add(job.namespace);
  }
  return -1;
}
