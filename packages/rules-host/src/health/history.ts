/**
 * @module The health history store (docs/operations.md, "Health history"), the cloud's and the gateway's:
 * every check period the service records its readiness, each supervised component's up/down, the event
 * loop's delay, and (the cloud) each latency-probe sample, in its own SQLite file. Three tiers, each with its retention: raw samples (24 h), 1-minute means
 * (7 days), 1-hour means (90 days); the rollups are kept as sum and count, updated with each sample, so a
 * mean over any bucket of a tier is exact. Pruned every few minutes, with the freed pages given back to the
 * file system (incremental auto-vacuum), and at most `maxSeries` series, so the file stays bounded: its
 * size depends on the series and the check period, not on how long the service runs.
 */
import { chmodSync } from 'node:fs';
import Database from 'better-sqlite3';
import { OpsError } from './errors.ts';
import type { HistoryQuery } from './history-query.ts';

export interface HistoryRetention {
  /** Raw samples, ms (default 24 h). */
  readonly rawMs: number;
  /** 1-minute means, ms (default 7 days). */
  readonly minuteMs: number;
  /** 1-hour means, ms (default 90 days). */
  readonly hourMs: number;
}

export const DEFAULT_RETENTION: HistoryRetention = { rawMs: 86_400_000, minuteMs: 7 * 86_400_000, hourMs: 90 * 86_400_000 };
/** Series kept at most (rule jobs come and go; each is a component): past it new series are not recorded. */
export const DEFAULT_MAX_SERIES = 200;
/** How often retention is applied (and the freed pages returned), ms of recorded time. */
const PRUNE_EVERY_MS = 5 * 60_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;

export interface HistoryAnswer {
  readonly series: string;
  /** The width of one point's bucket, ms. */
  readonly step: number;
  /** Bucket start and the mean of its samples (null: none). */
  readonly points: [number, number | null][];
}

export interface HistoryOptions {
  readonly retention?: Partial<HistoryRetention>;
  readonly maxSeries?: number;
}

export class HealthHistory {
  readonly retention: HistoryRetention;
  readonly #db: Database.Database;
  readonly #maxSeries: number;
  readonly #ids = new Map<string, number>();
  readonly #q: ReturnType<typeof statements>;
  /** The minute being recorded, and its samples' sum and count by series, written to the rollups when it ends. */
  #minute: number | undefined;
  readonly #pending = new Map<number, { sum: number; n: number }>();
  #prunedAt = 0;
  #dropped = 0;

  constructor(db: Database.Database, o: HistoryOptions = {}) {
    this.#db = db;
    this.retention = { ...DEFAULT_RETENTION, ...o.retention };
    this.#maxSeries = o.maxSeries ?? DEFAULT_MAX_SERIES;
    db.exec(`
      CREATE TABLE IF NOT EXISTS series (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
      CREATE TABLE IF NOT EXISTS raw (s INTEGER NOT NULL, t INTEGER NOT NULL, v REAL NOT NULL, PRIMARY KEY (s, t)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS rollup (
        tier INTEGER NOT NULL, s INTEGER NOT NULL, t INTEGER NOT NULL, sum REAL NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY (tier, s, t)
      ) WITHOUT ROWID;
    `);
    this.#q = statements(db);
    for (const r of this.#q.allSeries.all() as { id: number; name: string }[]) this.#ids.set(r.name, r.id);
    // A minute in memory when the process ended: rolled up from the raw samples, which hold it.
    db.transaction(() => {
      for (const s of this.#ids.values()) {
        const last = (this.#q.lastRolled.get(s) as { t: number | null }).t;
        const since = last === null ? 0 : last + MINUTE;
        this.#q.rollRaw.run({ tier: MINUTE, s, since });
        this.#q.rollRaw.run({ tier: HOUR, s, since });
      }
    })();
  }

  /** Opens (or makes) the file at `path`, private to the service (0600), in WAL mode with incremental vacuum. */
  static open(path: string, o: HistoryOptions = {}): HealthHistory {
    const db = new Database(path);
    // Only effective on a new file (before the first table): a file made so returns freed pages on request.
    db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    chmodSync(path, 0o600);
    return new HealthHistory(db, o);
  }

  /** Samples not recorded because the series cap was reached. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Records samples taken at `at` (Unix ms), in one transaction; a non-finite value is skipped. */
  record(at: number, samples: Iterable<readonly [name: string, value: number]>): void {
    const t = Math.trunc(at);
    const minute = t - (t % MINUTE);
    this.#db.transaction(() => {
      if (minute !== this.#minute) this.#flush();
      this.#minute = minute;
      for (const [name, v] of samples) {
        if (!Number.isFinite(v)) continue;
        const s = this.#series(name);
        if (s === undefined) {
          this.#dropped++;
          continue;
        }
        this.#q.raw.run(s, t, v);
        const acc = this.#pending.get(s);
        if (acc === undefined) this.#pending.set(s, { sum: v, n: 1 });
        else {
          acc.sum += v;
          acc.n++;
        }
      }
    })();
    if (t - this.#prunedAt >= PRUNE_EVERY_MS) this.prune(t);
  }

  /** Runs `f` (which records) in one transaction: for many records at once, as a simulation makes them. */
  batch<T>(f: () => T): T {
    return this.#db.transaction(f)();
  }

  /** Applies the retention as of `now`, forgets series with nothing left, and returns the freed pages. */
  prune(now: number): void {
    this.#prunedAt = now;
    const { rawMs, minuteMs, hourMs } = this.retention;
    this.#db.transaction(() => {
      // Per series: each delete is then a range of the primary key, not a scan of the table.
      for (const s of this.#ids.values()) {
        this.#q.pruneRaw.run(s, now - rawMs);
        this.#q.pruneRoll.run(MINUTE, s, now - minuteMs);
        this.#q.pruneRoll.run(HOUR, s, now - hourMs);
      }
      for (const r of this.#q.emptySeries.all() as { id: number; name: string }[]) {
        this.#q.dropSeries.run(r.id);
        this.#ids.delete(r.name);
      }
    })();
    this.#db.pragma('incremental_vacuum');
  }

  /** The names of the series recorded, sorted. */
  series(): string[] {
    return [...this.#ids.keys()].sort();
  }

  /**
   * Means per bucket over [from, to), at most `points` buckets. The finest tier that still holds `from` and
   * is not finer than the buckets asked for answers: raw samples for short recent ranges, 1-minute means for
   * buckets of a minute or more (or data older than the raw retention), 1-hour means likewise.
   */
  query(q: Required<Pick<HistoryQuery, 'series'>> & HistoryQuery, now: number): HistoryAnswer {
    const s = this.#ids.get(q.series);
    if (s === undefined) throw new OpsError('FERRY_OPS_NO_SERIES', `no series ${q.series} is recorded`, { path: 'series' });
    const span = q.to - q.from;
    let step = Math.max(1, Math.ceil(span / q.points));
    const age = now - q.from;
    const tier = step >= HOUR || age > this.retention.minuteMs ? HOUR : step >= MINUTE || age > this.retention.rawMs ? MINUTE : 0;
    if (tier > 0) step = Math.ceil(step / tier) * tier;
    // Rollup buckets start at `from` rounded down to the tier, so one never straddles two points; the step
    // grows (a whole number of the tier's buckets) until `points` of them cover up to `to`.
    const start = tier > 0 ? q.from - (q.from % tier) : q.from;
    if (tier > 0 && Math.ceil((q.to - start) / step) > q.points) step = Math.ceil((q.to - start) / q.points / tier) * tier;
    const rows = (
      tier === 0 ? this.#q.queryRaw.all({ s, start, from: q.from, to: q.to, step }) : this.#q.queryRoll.all({ tier, s, start, from: start, to: q.to, step })
    ) as { b: number; sum: number; n: number }[];
    const byBucket = new Map(rows.map((r) => [r.b, { sum: r.sum, n: r.n }]));
    const acc = this.#pending.get(s);
    if (tier > 0 && acc !== undefined && this.#minute !== undefined && this.#minute >= start && this.#minute < q.to) {
      // The minute being recorded is not in the rollups yet: its samples count all the same.
      const b = Math.floor((this.#minute - start) / step);
      const got = byBucket.get(b);
      byBucket.set(b, { sum: (got?.sum ?? 0) + acc.sum, n: (got?.n ?? 0) + acc.n });
    }
    const count = Math.ceil((q.to - start) / step);
    const points: [number, number | null][] = [];
    for (let b = 0; b < count; b++) {
      const got = byBucket.get(b);
      points.push([start + b * step, got === undefined || got.n === 0 ? null : got.sum / got.n]);
    }
    return { series: q.series, step, points };
  }

  /** Bytes the file and its write-ahead log hold now. */
  bytes(): number {
    const pages = this.#db.pragma('page_count', { simple: true }) as number;
    const size = this.#db.pragma('page_size', { simple: true }) as number;
    return pages * size;
  }

  /** Writes the write-ahead log back into the file and truncates it. */
  checkpoint(): void {
    this.#db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /** Writes the minute being recorded and closes the file (once; again does nothing). */
  close(): void {
    if (!this.#db.open) return;
    this.#db.transaction(() => this.#flush())();
    this.#db.close();
  }

  #flush(): void {
    const m = this.#minute;
    if (m === undefined) return;
    for (const [s, acc] of this.#pending) {
      this.#q.roll.run(MINUTE, s, m, acc.sum, acc.n);
      this.#q.roll.run(HOUR, s, m - (m % HOUR), acc.sum, acc.n);
    }
    this.#pending.clear();
  }

  #series(name: string): number | undefined {
    const got = this.#ids.get(name);
    if (got !== undefined) return got;
    if (this.#ids.size >= this.#maxSeries) return undefined;
    const id = Number(this.#q.addSeries.run(name).lastInsertRowid);
    this.#ids.set(name, id);
    return id;
  }
}

function statements(db: Database.Database) {
  return {
    allSeries: db.prepare('SELECT id, name FROM series'),
    addSeries: db.prepare('INSERT INTO series (name) VALUES (?)'),
    raw: db.prepare('INSERT OR REPLACE INTO raw (s, t, v) VALUES (?, ?, ?)'),
    roll: db.prepare('INSERT INTO rollup (tier, s, t, sum, n) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET sum = sum + excluded.sum, n = n + excluded.n'),
    lastRolled: db.prepare('SELECT max(t) AS t FROM rollup WHERE tier = 60000 AND s = ?'),
    rollRaw: db.prepare(
      'INSERT INTO rollup (tier, s, t, sum, n) SELECT @tier, s, t - t % @tier AS b, sum(v), count(*) FROM raw WHERE s = @s AND t >= @since GROUP BY b ' +
        'ON CONFLICT DO UPDATE SET sum = sum + excluded.sum, n = n + excluded.n',
    ),
    pruneRaw: db.prepare('DELETE FROM raw WHERE s = ? AND t < ?'),
    pruneRoll: db.prepare('DELETE FROM rollup WHERE tier = ? AND s = ? AND t < ?'),
    emptySeries: db.prepare(
      'SELECT id, name FROM series WHERE NOT EXISTS (SELECT 1 FROM raw WHERE s = id) AND NOT EXISTS (SELECT 1 FROM rollup WHERE s = id AND tier = 3600000)',
    ),
    dropSeries: db.prepare('DELETE FROM series WHERE id = ?'),
    queryRaw: db.prepare(
      'SELECT CAST((t - @start) / @step AS INTEGER) AS b, sum(v) AS sum, count(*) AS n FROM raw WHERE s = @s AND t >= @from AND t < @to GROUP BY b',
    ),
    queryRoll: db.prepare(
      'SELECT CAST((t - @start) / @step AS INTEGER) AS b, sum(sum) AS sum, sum(n) AS n FROM rollup WHERE tier = @tier AND s = @s AND t >= @from AND t < @to GROUP BY b',
    ),
  };
}
