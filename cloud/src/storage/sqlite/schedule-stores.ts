/**
 * @module The scheduler's ports on SQLite (embedded mode, stores.ts): schedules in a table of the cloud's
 * database, so they survive a restart; leases in a second table with UNIQUE(schedule_id, period), claimed by
 * `INSERT OR IGNORE` in an IMMEDIATE transaction and won iff `changes() = 1`. The insert also refuses a
 * period older than one already claimed (as MemoryLeaseStore does), so a late worker never runs a period
 * after its successor ran. SQLite's write lock makes this atomic between connections and processes sharing
 * the file.
 */
import type Database from 'better-sqlite3';
import type { SecretSealer } from '../../functions/tokens/sealed-secret.ts';
import { decodeSchedule, encodeSchedule, scheduleSealer } from '../codecs.ts';
import { StoreError } from '../errors.ts';
import type { LeaseStore, Schedule, ScheduleStore } from '../../functions/schedules/stores.ts';

type Db = Database.Database;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS schedule (
  id       TEXT PRIMARY KEY,
  start_ms INTEGER NOT NULL,
  body     TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS schedule_lease (
  schedule_id TEXT NOT NULL,
  period      INTEGER NOT NULL,
  worker      TEXT NOT NULL,
  UNIQUE (schedule_id, period)
);`;

function checkPeriod(periodIndex: number): void {
  if (!Number.isSafeInteger(periodIndex) || periodIndex < 0)
    throw new StoreError('FERRY_STORE_RANGE', `period index must be a non-negative integer, got ${periodIndex}`);
}

export class SqliteScheduleStore implements ScheduleStore {
  readonly #put: Database.Statement<[{ id: string; start: number; body: string }]>;
  readonly #get: Database.Statement<[string], { body: string }>;
  readonly #delete: Database.Statement<[string]>;
  readonly #list: Database.Statement<[], { body: string }>;
  readonly #sealer: SecretSealer | undefined;

  /** With the master key the tokens schedules run under are stored sealed (codecs.ts). */
  constructor(db: Db, opts: { readonly masterKey?: Uint8Array } = {}) {
    this.#sealer = opts.masterKey === undefined ? undefined : scheduleSealer(opts.masterKey);
    db.exec(SCHEMA);
    this.#put = db.prepare<{ id: string; start: number; body: string }>('INSERT OR REPLACE INTO schedule (id, start_ms, body) VALUES (@id, @start, @body)');
    this.#get = db.prepare<[string], { body: string }>('SELECT body FROM schedule WHERE id = ?');
    this.#delete = db.prepare<[string]>('DELETE FROM schedule WHERE id = ?');
    this.#list = db.prepare<[], { body: string }>('SELECT body FROM schedule ORDER BY start_ms, id');
  }

  async put(s: Schedule): Promise<void> {
    this.#put.run({ id: s.id, start: s.startMs, body: encodeSchedule(s, this.#sealer) });
  }

  async get(id: string): Promise<Schedule | undefined> {
    const row = this.#get.get(id);
    return row === undefined ? undefined : decodeSchedule(row.body, `schedule ${id}`, this.#sealer);
  }

  /** Leases of a deleted schedule stay (at most two rows): removing them could let a worker that listed it before the delete win its current period twice. */
  async delete(id: string): Promise<boolean> {
    return this.#delete.run(id).changes === 1;
  }

  async list(): Promise<Schedule[]> {
    return this.#list.all().map((r) => decodeSchedule(r.body, 'schedule table', this.#sealer));
  }
}

export class SqliteLeaseStore implements LeaseStore {
  readonly #claim: (p: { id: string; period: number; worker: string }) => boolean;
  readonly #holder: Database.Statement<[string, number], { worker: string }>;

  constructor(db: Db) {
    db.exec(SCHEMA);
    const insert = db.prepare<{ id: string; period: number; worker: string }>(`
      INSERT OR IGNORE INTO schedule_lease (schedule_id, period, worker)
      SELECT @id, @period, @worker WHERE NOT EXISTS (SELECT 1 FROM schedule_lease WHERE schedule_id = @id AND period >= @period)`);
    // The newest lease is what refuses late claims; the one before it is kept for holder() and debugging.
    const prune = db.prepare<{ id: string; period: number }>('DELETE FROM schedule_lease WHERE schedule_id = @id AND period < @period - 1');
    const claim = db.transaction((p: { id: string; period: number; worker: string }): boolean => {
      if (insert.run(p).changes !== 1) return false;
      prune.run({ id: p.id, period: p.period });
      return true;
    });
    // IMMEDIATE takes the write lock before reading, so two connections cannot both see "not claimed".
    this.#claim = (p) => claim.immediate(p);
    this.#holder = db.prepare<[string, number], { worker: string }>('SELECT worker FROM schedule_lease WHERE schedule_id = ? AND period = ?');
  }

  async claim(scheduleId: string, periodIndex: number, workerId: string): Promise<boolean> {
    checkPeriod(periodIndex);
    return this.#claim({ id: scheduleId, period: periodIndex, worker: workerId });
  }

  /** Who won a period, while its lease row is kept (the newest two per schedule). */
  async holder(scheduleId: string, periodIndex: number): Promise<string | undefined> {
    return this.#holder.get(scheduleId, periodIndex)?.worker;
  }
}
