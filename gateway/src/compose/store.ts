/**
 * @module The gateway's ComposeStore (docs/composite-streams.md, "On the gateway"): latest values and output
 * history of the composite streams the gateway hosts, in `compose.db` in its data directory. A wave (one
 * source update and everything it computes) is one SQLite transaction (`wave`), so a kill -9 mid-wave leaves
 * the store as it was before the update; the host puts the wave's outputs in the outbox before committing,
 * so an output the store holds has always been queued for the cloud. History is bounded per stream.
 */
import Database from 'better-sqlite3';
import type { ComposeStore, StreamValue } from '@ferry/compose';

/** Outputs kept per stream (docs/gateway.md, "Composite streams"). */
export const GATEWAY_HISTORY_CAP = 1000;

type Json = { value: string };

export class GatewayComposeStore implements ComposeStore {
  readonly #db: Database.Database;
  readonly #cap: number;
  readonly #get: Database.Statement<[string], Json>;
  readonly #put: Database.Statement<[string, string]>;
  readonly #add: Database.Statement<[string, string, number, string]>;
  readonly #trim: Database.Statement<[string, string, number]>;
  readonly #range: Database.Statement<[string, number, number, number], Json>;
  readonly #forget: readonly Database.Statement<[string]>[];

  /** `path`: the SQLite file, or ':memory:' for tests of logic. */
  constructor(path: string, historyCap = GATEWAY_HISTORY_CAP) {
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#cap = historyCap;
    this.#db.exec(`
CREATE TABLE IF NOT EXISTS so_latest (stream TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS so_history (stream TEXT NOT NULL, id TEXT NOT NULL, at INTEGER NOT NULL, value TEXT NOT NULL, UNIQUE (stream, id));
CREATE INDEX IF NOT EXISTS so_history_at ON so_history (stream, at);
CREATE TABLE IF NOT EXISTS so_objects (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, owner TEXT NOT NULL, document TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS so_moved (id TEXT PRIMARY KEY, snapshots TEXT NOT NULL) WITHOUT ROWID;`);
    const db = this.#db;
    this.#get = db.prepare('SELECT value FROM so_latest WHERE stream = ?');
    this.#put = db.prepare('INSERT OR REPLACE INTO so_latest (stream, value) VALUES (?, ?)');
    this.#add = db.prepare('INSERT OR IGNORE INTO so_history (stream, id, at, value) VALUES (?, ?, ?, ?)');
    // Keeps the newest `cap` rows of the stream; run only when an insert took (a duplicate changes nothing).
    this.#trim = db.prepare(
      'DELETE FROM so_history WHERE stream = ? AND rowid <= (SELECT rowid FROM so_history WHERE stream = ? ORDER BY rowid DESC LIMIT 1 OFFSET ?)',
    );
    this.#range = db.prepare('SELECT value FROM so_history WHERE stream = ? AND at >= ? AND at <= ? ORDER BY at, rowid LIMIT ?');
    this.#forget = [db.prepare('DELETE FROM so_latest WHERE stream = ?'), db.prepare('DELETE FROM so_history WHERE stream = ?')];
  }

  latest(key: string): StreamValue | undefined {
    const row = this.#get.get(key);
    return row && (JSON.parse(row.value) as StreamValue);
  }

  setLatest(key: string, value: StreamValue): void {
    this.#put.run(key, JSON.stringify(value));
  }

  append(key: string, value: StreamValue): void {
    if (this.#cap === 0) return;
    if (this.#add.run(key, value.id, value.lastUpdate, JSON.stringify(value)).changes > 0) this.#trim.run(key, key, this.#cap);
  }

  range(key: string, from: number, to: number, limit = Number.MAX_SAFE_INTEGER): readonly StreamValue[] {
    return this.#range.all(key, from, to, limit).map((r) => JSON.parse(r.value) as StreamValue);
  }

  drop(key: string): void {
    for (const s of this.#forget) s.run(key);
  }

  /** The installed objects, in the order they were installed (a group's members before its readers). */
  objects(): { id: string; owner: string; document: unknown }[] {
    const rows = this.#db.prepare('SELECT id, owner, document FROM so_objects ORDER BY seq').all() as { id: string; owner: string; document: string }[];
    return rows.map((r) => ({ id: r.id, owner: r.owner, document: JSON.parse(r.document) as unknown }));
  }

  putObject(id: string, owner: string, document: unknown): void {
    this.#db.prepare('INSERT OR IGNORE INTO so_objects (id, owner, document) VALUES (?, ?, ?)').run(id, owner, JSON.stringify(document));
    this.#db.prepare('DELETE FROM so_moved WHERE id = ?').run(id);
  }

  /** Forgets an object; with `snapshots`, remembers what it left with, so a move out asked again answers the same. */
  deleteObject(id: string, snapshots?: readonly unknown[]): void {
    this.#db.prepare('DELETE FROM so_objects WHERE id = ?').run(id);
    if (snapshots !== undefined) this.#db.prepare('INSERT OR REPLACE INTO so_moved (id, snapshots) VALUES (?, ?)').run(id, JSON.stringify(snapshots));
  }

  /** The snapshots an object left with when it was moved out, if it was. */
  movedOut(id: string): readonly unknown[] | undefined {
    const row = this.#db.prepare('SELECT snapshots AS value FROM so_moved WHERE id = ?').get(id) as Json | undefined;
    return row && (JSON.parse(row.value) as unknown[]);
  }

  /**
   * Runs `f` as one transaction: everything it stores is committed together, or (it throws, or the process
   * dies) not at all. `f` may await, but nothing else may write meanwhile (the host runs one wave at a time).
   */
  async wave<T>(f: () => Promise<T>): Promise<T> {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const r = await f();
      this.#db.exec('COMMIT');
      return r;
    } catch (e) {
      this.#db.exec('ROLLBACK');
      throw e;
    }
  }

  close(): void {
    this.#db.close();
  }
}
