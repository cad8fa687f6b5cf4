/**
 * @module The SQLite TimeSeriesStore: one row per point in `series_point`, indexed by (stream, ts, id) so
 * `query(stream, from, to)` is one index range scan in ts order, equal timestamps in append order (the
 * AUTOINCREMENT id never reuses a value, sqlite.org/autoinc.html). Values are stored as JSON text. A unique
 * index on (stream, kid, ep, sq) and INSERT OR IGNORE make a repeated append a no-op (ports.ts).
 */
import type { Point, QueryLimit, TimeSeriesStore } from '../../ingest/ports.ts';
import { pointValue } from '../codecs.ts';
import { StoreError, wrap } from '../errors.ts';
import type { SqliteDb } from './db.ts';

interface PointRow {
  ts: number;
  kid: string;
  ep: number;
  sq: number;
  value: string;
}

export class SqliteTimeSeries implements TimeSeriesStore {
  readonly #db: SqliteDb;
  readonly #q;

  /** `db` from `openSqlite`; the caller owns it. */
  constructor(db: SqliteDb) {
    this.#db = db;
    this.#q = wrap('FERRY_STORE_OPEN', 'preparing statements (was the schema created by openSqlite?)', () => ({
      append: db.prepare('INSERT OR IGNORE INTO series_point (stream, ts, kid, ep, sq, value) VALUES (?, ?, ?, ?, ?, ?)'),
      query: db.prepare('SELECT ts, kid, ep, sq, value FROM series_point WHERE stream = ? AND ts >= ? AND ts < ? ORDER BY ts, id'),
      first: db.prepare('SELECT ts, kid, ep, sq, value FROM series_point WHERE stream = ? AND ts >= ? AND ts < ? ORDER BY ts, id LIMIT ?'),
      newest: db.prepare('SELECT ts, kid, ep, sq, value FROM series_point WHERE stream = ? AND ts >= ? AND ts < ? ORDER BY ts DESC, id DESC LIMIT ?'),
      streams: db.prepare('SELECT DISTINCT stream FROM series_point ORDER BY stream'),
    }));
  }

  append(stream: string, point: Point): void {
    const value = pointValue(point);
    this.#run(() => this.#q.append.run(stream, point.ts, point.kid, point.ep, point.sq, value));
  }

  query(stream: string, from: number, to: number, limit?: QueryLimit): Point[] {
    const n = limit === undefined ? 0 : Math.max(0, Math.floor(limit.count));
    const rows = this.#run(() =>
      limit === undefined
        ? (this.#q.query.all(stream, from, to) as PointRow[])
        : limit.newest === true
          ? (this.#q.newest.all(stream, from, to, n) as PointRow[]).reverse()
          : (this.#q.first.all(stream, from, to, n) as PointRow[]),
    );
    return rows.map((r) => ({
      ts: r.ts,
      kid: r.kid,
      ep: r.ep,
      sq: r.sq,
      value: wrap('FERRY_STORE_CORRUPT', `value of a point of ${stream}`, () => JSON.parse(r.value) as unknown),
    }));
  }

  /** Stream names, sorted (for inspection). */
  streams(): string[] {
    return this.#run(() => (this.#q.streams.all() as { stream: string }[]).map((r) => r.stream));
  }

  #run<T>(f: () => T): T {
    if (!this.#db.open) throw new StoreError('FERRY_STORE_CLOSED', 'the SQLite database is closed');
    return wrap('FERRY_STORE_UNAVAILABLE', 'sqlite time series', f);
  }
}
