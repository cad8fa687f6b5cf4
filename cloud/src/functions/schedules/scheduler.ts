/**
 * @module Scheduled functions (docs/functions.md): a function repeats every N seconds and its result is
 * written into a namespace key, within the token's permission (a minimum period). Schedules live in a
 * ScheduleStore (they survive a restart); every worker runs `runDue` on its own timer and a LeaseStore
 * claim per (schedule, period) lets exactly one of them run each period. Periods are counted on the
 * injected clock from the schedule's start; after downtime only the current period runs (no catch-up
 * burst). Runs are not charged to the token's call rate: the minimum period is their limit.
 */
import { randomBytes } from 'node:crypto';
import { fnFail, fnOk, type FnResult, type KeyValueState, type RunOutput } from '@ferry/wasm-host';
import type { Principal } from '../tokens/principal.ts';
import { MemoryLeaseStore, MemoryScheduleStore, type LeaseStore, type Schedule, type ScheduleStore } from './stores.ts';

export interface CreateSchedule {
  readonly token: string;
  readonly namespace: string;
  readonly hash: string;
  readonly export: string;
  readonly args: readonly (number | string)[];
  readonly periodS: number;
  readonly writeTo: string;
}

export interface RunReport {
  readonly scheduleId: string;
  readonly periodIndex: number;
  readonly result: FnResult<RunOutput>;
}

/** One run of a schedule, as the port executes it. */
export interface ScheduledCall {
  readonly namespace: string;
  readonly hash: string;
  readonly export: string;
  readonly args: readonly (number | string)[];
}

/**
 * The scheduler's port to the function service: the checks a call goes through and the execution after
 * them, so a scheduled run is refused and run exactly as a call would be. FunctionService implements it.
 */
export interface ScheduleCalls {
  authenticate(token: string): FnResult<Principal>;
  /** authenticate, then the namespace must be one the token lists. */
  authorize(token: string, namespace: string): FnResult<Principal>;
  /** A public token runs only white-listed hashes (and those its own list names). */
  checkFunction(p: Principal, namespace: string, hash: string): FnResult<void>;
  /** What is wrong with a call's shape (hash, export, args), or undefined. */
  checkRequest(req: { readonly hash: string; readonly export: string; readonly args: readonly unknown[] }): string | undefined;
  /** Runs an authorized call (module, quota, export, args, run); does not authorize. */
  execute(p: Principal, call: ScheduledCall): Promise<FnResult<RunOutput>>;
  /** Where a run's result is written. */
  readonly namespaces: { state(owner: string, namespace: string): Pick<KeyValueState, 'set'> };
}

export interface SchedulerOptions {
  readonly service: ScheduleCalls;
  /** The clock periods are counted on (wall clock, Unix ms). */
  readonly clock: { nowMs(): number };
  /** Unique per process; recorded with each lease. */
  readonly workerId: string;
  readonly store?: ScheduleStore;
  readonly leases?: LeaseStore;
  /** The shortest period anyone may ask for, owners included (default 1 s). */
  readonly floorS?: number;
  /** Schedules one owner may have (default 32); past it create() is refused with FERRY_FN_QUOTA. */
  readonly maxPerOwner?: number;
}

export const DEFAULT_SCHEDULES_PER_OWNER = 32;

const STATE_KEY = /^[\x21-\x7e]{1,64}$/; // docs/abi.md: printable ASCII, 1..stateKeyMax
const MAX_PERIOD_S = 31_536_000;

export class Scheduler {
  readonly store: ScheduleStore;
  private readonly leases: LeaseStore;
  private readonly svc: ScheduleCalls;
  private readonly clock: { nowMs(): number };
  private readonly workerId: string;
  private readonly floorS: number;
  private readonly maxPerOwner: number;
  /** Periods this worker already handled (won or lost), so it asks the lease store once per period. */
  private readonly seen = new Map<string, number>();
  private timer: { stop(): void } | undefined;

  constructor(opts: SchedulerOptions) {
    this.svc = opts.service;
    this.clock = opts.clock;
    this.workerId = opts.workerId;
    this.store = opts.store ?? new MemoryScheduleStore();
    this.leases = opts.leases ?? new MemoryLeaseStore();
    this.floorS = opts.floorS ?? 1;
    this.maxPerOwner = opts.maxPerOwner ?? DEFAULT_SCHEDULES_PER_OWNER;
  }

  async create(req: CreateSchedule): Promise<FnResult<Schedule>> {
    const bad = this.svc.checkRequest(req);
    if (bad !== undefined) return fnFail('FERRY_FN_BAD_REQUEST', bad);
    if (!Number.isInteger(req.periodS) || req.periodS < this.floorS || req.periodS > MAX_PERIOD_S) {
      return fnFail('FERRY_FN_SCHEDULE_INVALID', `period must be an integer of seconds in [${this.floorS}, ${MAX_PERIOD_S}]`);
    }
    if (typeof req.writeTo !== 'string' || !STATE_KEY.test(req.writeTo))
      return fnFail('FERRY_FN_SCHEDULE_INVALID', 'write_to must be a state key: 1..64 printable ASCII characters');
    if (!req.args.every((a) => typeof a === 'number' || typeof a === 'string'))
      return fnFail('FERRY_FN_SCHEDULE_INVALID', 'args must be numbers or decimal strings');
    const p = this.svc.authorize(req.token, req.namespace);
    if (!p.ok) return p;
    const c = p.value.claims;
    if (c !== undefined) {
      if (c.schedule === undefined) return fnFail('FERRY_FN_SCHEDULE_FORBIDDEN', 'the token allows no schedules');
      if (req.periodS < c.schedule.minPeriodS)
        return fnFail('FERRY_FN_SCHEDULE_FORBIDDEN', `period ${req.periodS} s < the token's minimum ${c.schedule.minPeriodS} s`);
    }
    const f = this.svc.checkFunction(p.value, req.namespace, req.hash);
    if (!f.ok) return f;
    // Counted from the store: every worker sees the same schedules (two creates racing may both pass).
    const owned = (await this.store.list()).filter((x) => x.owner === p.value.owner).length;
    if (owned >= this.maxPerOwner) return fnFail('FERRY_FN_QUOTA', `owner ${p.value.owner} already has ${owned} schedules (quota ${this.maxPerOwner})`);
    const s: Schedule = {
      id: randomBytes(9).toString('base64url'),
      owner: p.value.owner,
      namespace: req.namespace,
      hash: req.hash,
      export: req.export,
      args: [...req.args],
      periodS: req.periodS,
      writeTo: req.writeTo,
      ...(c !== undefined && { token: req.token }),
      startMs: this.clock.nowMs(),
    };
    await this.store.put(s);
    return fnOk(s);
  }

  /** Removes a schedule; any valid token of its owner may. */
  async remove(token: string, id: string): Promise<FnResult<void>> {
    const p = this.svc.authenticate(token);
    if (!p.ok) return p;
    const s = await this.store.get(id);
    if (s === undefined || s.owner !== p.value.owner) return fnFail('FERRY_FN_NO_SUCH_SCHEDULE', `no schedule ${id}`);
    await this.store.delete(id);
    return fnOk(undefined);
  }

  /** Runs every schedule whose current period this worker wins; returns what it ran. */
  async runDue(): Promise<RunReport[]> {
    const now = this.clock.nowMs();
    const reports: RunReport[] = [];
    const schedules = await this.store.list();
    if (this.seen.size > schedules.length) {
      const live = new Set(schedules.map((s) => s.id));
      for (const id of this.seen.keys()) if (!live.has(id)) this.seen.delete(id);
    }
    for (const s of schedules) {
      const period = Math.floor((now - s.startMs) / (s.periodS * 1000));
      if (period < 0 || this.seen.get(s.id) === period) continue;
      this.seen.set(s.id, period);
      if (!(await this.leases.claim(s.id, period, this.workerId))) continue;
      reports.push({ scheduleId: s.id, periodIndex: period, result: await this.runOnce(s) });
    }
    return reports;
  }

  /** Calls runDue every `everyMs` with injected timers (defaults: the global ones). */
  start(
    everyMs: number,
    timers: { set: (f: () => void, ms: number) => unknown; clear: (h: unknown) => void } = {
      set: (f, ms) => setInterval(f, ms),
      clear: (h) => clearInterval(h as NodeJS.Timeout),
    },
  ): void {
    this.stop();
    let running = false;
    const h = timers.set(() => {
      if (running) return;
      running = true;
      void this.runDue().finally(() => {
        running = false;
      });
    }, everyMs);
    this.timer = { stop: () => timers.clear(h) };
  }

  stop(): void {
    this.timer?.stop();
    this.timer = undefined;
  }

  private async runOnce(s: Schedule): Promise<FnResult<RunOutput>> {
    let principal: Principal = { owner: s.owner, callerId: s.owner };
    if (s.token !== undefined) {
      // Re-checked every run: an expired or revoked token, or a hash taken off the white-list, stops it.
      const p = this.svc.authorize(s.token, s.namespace);
      if (!p.ok) return p;
      const f = this.svc.checkFunction(p.value, s.namespace, s.hash);
      if (!f.ok) return f;
      principal = p.value;
    }
    const r = await this.svc.execute(principal, { hash: s.hash, export: s.export, args: s.args, namespace: s.namespace });
    if (r.ok) this.svc.namespaces.state(s.owner, s.namespace).set(s.writeTo, new TextEncoder().encode(r.value.value === null ? '' : String(r.value.value)));
    return r;
  }
}
