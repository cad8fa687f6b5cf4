/**
 * @module The scheduler's two storage ports. ScheduleStore keeps schedules across restarts (a SQLite
 * table or a Redis hash later). LeaseStore makes "at most one run per period" hold across N workers:
 * claim(scheduleId, periodIndex, workerId) succeeds for exactly one caller per (schedule, period). With
 * Redis: `SET lease:{scheduleId}:{periodIndex} workerId NX PX <2 periods>`; with SQLite:
 * `INSERT OR IGNORE INTO lease(schedule_id, period, worker) ...` on a UNIQUE(schedule_id, period) row and
 * `changes() = 1`. Both are atomic, so two workers never both win.
 */

export interface Schedule {
  readonly id: string;
  readonly owner: string;
  readonly namespace: string;
  readonly hash: string;
  readonly export: string;
  /** JSON-safe args (i64 as decimal strings). */
  readonly args: readonly (number | string)[];
  readonly periodS: number;
  /** The namespace key the result is written to, as decimal text. */
  readonly writeTo: string;
  /** The public token the schedule runs under, re-checked every run; absent when the owner created it. */
  readonly token?: string;
  /** Period 0 starts here; period n covers [startMs + n·period, startMs + (n+1)·period). */
  readonly startMs: number;
}

export interface ScheduleStore {
  put(s: Schedule): Promise<void>;
  get(id: string): Promise<Schedule | undefined>;
  delete(id: string): Promise<boolean>;
  list(): Promise<Schedule[]>;
}

export interface LeaseStore {
  /** True for exactly one caller per (scheduleId, periodIndex); atomic. */
  claim(scheduleId: string, periodIndex: number, workerId: string): Promise<boolean>;
}

export class MemoryScheduleStore implements ScheduleStore {
  private readonly map = new Map<string, Schedule>();
  async put(s: Schedule): Promise<void> {
    this.map.set(s.id, structuredClone(s));
  }
  async get(id: string): Promise<Schedule | undefined> {
    return this.map.get(id);
  }
  async delete(id: string): Promise<boolean> {
    return this.map.delete(id);
  }
  async list(): Promise<Schedule[]> {
    return [...this.map.values()];
  }
}

export class MemoryLeaseStore implements LeaseStore {
  private readonly leases = new Map<string, string>();
  /** Newest period claimed per schedule, to forget old leases (as Redis PX would). */
  private readonly newest = new Map<string, number>();

  async claim(scheduleId: string, periodIndex: number, workerId: string): Promise<boolean> {
    const key = `${scheduleId}#${periodIndex}`;
    if (this.leases.has(key)) return false;
    // A period older than one already claimed is over: refusing it keeps a slow worker from running late.
    if ((this.newest.get(scheduleId) ?? -1) > periodIndex) return false;
    this.leases.set(key, workerId);
    this.leases.delete(`${scheduleId}#${periodIndex - 2}`);
    this.newest.set(scheduleId, periodIndex);
    return true;
  }

  holder(scheduleId: string, periodIndex: number): string | undefined {
    return this.leases.get(`${scheduleId}#${periodIndex}`);
  }
}
