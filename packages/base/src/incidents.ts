/**
 * @module The supervisor's incidents in SQLite (docs/operations.md, "Incidents"), so they outlive the restart
 * that often follows them, and bounded: the newest `maxRows` are kept. The database is any handle of the
 * better-sqlite3 shape, passed in (this package imports no npm package): the cloud's cloud.db, the gateway's
 * state.db.
 */
import type { Incident, IncidentKind, IncidentSink } from './supervisor.ts';

/** The part of a better-sqlite3 Database this store uses. */
export interface SqlDatabase {
  exec(sql: string): unknown;
  prepare(sql: string): SqlStatement;
}
export interface SqlStatement {
  run(...params: unknown[]): { readonly lastInsertRowid: number | bigint };
  all(...params: unknown[]): unknown[];
}

export interface StoredIncident extends Incident {
  readonly id: number;
}

/** Incidents kept at most (docs/limits.md). */
export const MAX_INCIDENTS = 1000;

export class SqliteIncidentStore implements IncidentSink {
  readonly #insert: SqlStatement;
  readonly #trim: SqlStatement;
  readonly #list: SqlStatement;
  readonly #max: number;

  constructor(db: SqlDatabase, maxRows = MAX_INCIDENTS) {
    db.exec(`CREATE TABLE IF NOT EXISTS incidents (
      id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, component TEXT NOT NULL,
      kind TEXT NOT NULL, attempt INTEGER NOT NULL, message TEXT NOT NULL)`);
    this.#insert = db.prepare('INSERT INTO incidents (at, component, kind, attempt, message) VALUES (?, ?, ?, ?, ?)');
    this.#trim = db.prepare('DELETE FROM incidents WHERE id <= ?');
    this.#list = db.prepare('SELECT id, at, component, kind, attempt, message FROM incidents ORDER BY id DESC LIMIT ?');
    this.#max = maxRows;
  }

  record(i: Incident): void {
    // A message is what a component said: bounded so one verbose failure cannot fill the table.
    const r = this.#insert.run(i.at, i.component.slice(0, 200), i.kind, i.attempt, i.message.slice(0, 500));
    const id = Number(r.lastInsertRowid);
    if (id > this.#max) this.#trim.run(id - this.#max);
  }

  /** The newest first. */
  list(limit = 100): StoredIncident[] {
    return (this.#list.all(limit) as { id: number; at: number; component: string; kind: string; attempt: number; message: string }[]).map((r) => ({
      ...r,
      kind: r.kind as IncidentKind,
    }));
  }
}
