/**
 * @module The composite-stream engine's ComposeStore on SQLite (embedded mode; docs/composite-streams.md):
 * each stream's latest value, and its history by `lastUpdate`, in the cloud's database. An output carries an
 * idempotency key (its `id`), and the history holds each (stream, id) once: an update redelivered after a
 * crash appends nothing twice. History is bounded per stream (the oldest go first), pruned every
 * PRUNE_EVERY appends to a stream so an append stays one insert.
 */
import type Database from 'better-sqlite3';
import type { ComposeStore, StreamValue } from '@ferry/compose';

/** Outputs kept per stream by default (docs/limits.md). */
export const COMPOSE_HISTORY_CAP = 1000;
const PRUNE_EVERY = 64;

interface Row {
  value: string;
}

export class SqliteComposeStore implements ComposeStore {
  readonly #db: Database.Database;
  readonly #cap: number;
  readonly #appends = new Map<string, number>();
  readonly #q: {
    latest: Database.Statement<[string], Row>;
    setLatest: Database.Statement<[string, string]>;
    append: Database.Statement<[string, string, number, string]>;
    range: Database.Statement<[string, number, number, number], Row>;
    prune: Database.Statement<[string, string, number]>;
    dropLatest: Database.Statement<[string]>;
    dropHistory: Database.Statement<[string]>;
  };

  constructor(db: Database.Database, historyCap = COMPOSE_HISTORY_CAP) {
    this.#db = db;
    this.#cap = historyCap;
    db.exec(`
CREATE TABLE IF NOT EXISTS compose_latest (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS compose_history (
  key TEXT NOT NULL, id TEXT NOT NULL, last_update INTEGER NOT NULL, value TEXT NOT NULL, PRIMARY KEY (key, id)
);
CREATE INDEX IF NOT EXISTS compose_history_time ON compose_history (key, last_update);`);
    this.#q = {
      latest: db.prepare('SELECT value FROM compose_latest WHERE key = ?'),
      setLatest: db.prepare('INSERT INTO compose_latest (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      append: db.prepare('INSERT OR IGNORE INTO compose_history (key, id, last_update, value) VALUES (?, ?, ?, ?)'),
      range: db.prepare('SELECT value FROM compose_history WHERE key = ? AND last_update BETWEEN ? AND ? ORDER BY last_update, rowid LIMIT ?'),
      prune: db.prepare(
        'DELETE FROM compose_history WHERE key = ? AND rowid NOT IN (SELECT rowid FROM compose_history WHERE key = ? ORDER BY last_update DESC, rowid DESC LIMIT ?)',
      ),
      dropLatest: db.prepare('DELETE FROM compose_latest WHERE key = ?'),
      dropHistory: db.prepare('DELETE FROM compose_history WHERE key = ?'),
    };
  }

  latest(key: string): StreamValue | undefined {
    const r = this.#q.latest.get(key);
    return r === undefined ? undefined : (JSON.parse(r.value) as StreamValue);
  }

  setLatest(key: string, value: StreamValue): void {
    this.#q.setLatest.run(key, JSON.stringify(value));
  }

  append(key: string, value: StreamValue): void {
    if (this.#cap === 0) return;
    this.#q.append.run(key, value.id, value.lastUpdate, JSON.stringify(value));
    const n = (this.#appends.get(key) ?? 0) + 1;
    this.#appends.set(key, n % PRUNE_EVERY);
    if (n >= PRUNE_EVERY) this.#q.prune.run(key, key, this.#cap);
  }

  range(key: string, from: number, to: number, limit = Number.MAX_SAFE_INTEGER): readonly StreamValue[] {
    return this.#q.range.all(key, from, to, Math.min(limit, Number.MAX_SAFE_INTEGER)).map((r) => JSON.parse(r.value) as StreamValue);
  }

  drop(key: string): void {
    this.#db.transaction(() => {
      this.#q.dropLatest.run(key);
      this.#q.dropHistory.run(key);
    })();
    this.#appends.delete(key);
  }
}
