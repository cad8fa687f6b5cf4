/**
 * @module Opens the one SQLite file of the embedded default (docs/architecture.md, "Running modes"): WAL journal,
 * synchronous=FULL by default, a busy timeout, and the schema (versioned in `ferry_meta`). The reorder
 * store and the time-series store share this file, so one process (or several, through SQLite's file
 * locks) keeps windows, buffers and points together. Schema and settings: docs/storage.md.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError, wrap } from '../errors.ts';

export type SqliteDb = Database.Database;

export interface SqliteOptions {
  /** The data directory; created if missing. */
  readonly dir: string;
  /** File name inside `dir`; default `ferry.sqlite`. */
  readonly file?: string;
  /**
   * FULL (default): every commit fsyncs the WAL, so a message the transport has been told is stored survives a
   * power cut; anti-replay windows too (a lost window update would let a replay through after reboot).
   * NORMAL: commits are atomic and survive a process crash, but the last ones may roll back on power loss
   * (https://www.sqlite.org/pragma.html#pragma_synchronous, "WAL mode ... NORMAL"). Choose it only where
   * the transport redelivers unacknowledged messages AND losing the last acknowledged ones is acceptable.
   */
  readonly synchronous?: 'FULL' | 'NORMAL';
  /** How long a writer waits for another process' lock (ms); default 5000. */
  readonly busyTimeoutMs?: number;
}

export const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ferry_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reorder_source (
  kid      TEXT PRIMARY KEY,
  ep       INTEGER NOT NULL,
  next     INTEGER NOT NULL,
  seen     TEXT NOT NULL,
  groups   TEXT NOT NULL,
  deadline REAL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS reorder_source_due ON reorder_source (deadline) WHERE deadline IS NOT NULL;
CREATE TABLE IF NOT EXISTS reorder_pending (
  kid TEXT NOT NULL,
  ep  INTEGER NOT NULL,
  sq  INTEGER NOT NULL,
  at  REAL NOT NULL,
  grp TEXT,
  ref TEXT NOT NULL,
  PRIMARY KEY (kid, ep, sq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS series_point (
  id     INTEGER PRIMARY KEY AUTOINCREMENT,
  stream TEXT NOT NULL,
  ts     REAL NOT NULL,
  kid    TEXT NOT NULL,
  ep     INTEGER NOT NULL,
  sq     INTEGER NOT NULL,
  value  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS series_point_stream_ts ON series_point (stream, ts, id);
CREATE UNIQUE INDEX IF NOT EXISTS series_point_identity ON series_point (stream, kid, ep, sq);
`;

/** Opens (creating if needed) `<dir>/<file>` with the settings above and the current schema. */
export function openSqlite(opts: SqliteOptions): SqliteDb {
  if (typeof opts.dir !== 'string' || opts.dir === '') throw new StoreError('FERRY_STORE_CONFIG', 'dir must be a non-empty path');
  const file = opts.file ?? 'ferry.sqlite';
  if (file === '' || file.includes('/') || file.includes('\\')) throw new StoreError('FERRY_STORE_CONFIG', 'file must be a plain file name inside dir');
  const sync = opts.synchronous ?? 'FULL';
  if (sync !== 'FULL' && sync !== 'NORMAL') throw new StoreError('FERRY_STORE_CONFIG', 'synchronous must be FULL or NORMAL');
  const busy = opts.busyTimeoutMs ?? 5_000;
  if (!Number.isInteger(busy) || busy < 0) throw new StoreError('FERRY_STORE_CONFIG', 'busyTimeoutMs must be an integer >= 0');
  const path = join(opts.dir, file);
  const db = wrap('FERRY_STORE_OPEN', `opening ${path}`, () => {
    mkdirSync(opts.dir, { recursive: true });
    return new Database(path, { timeout: busy });
  });
  try {
    wrap('FERRY_STORE_OPEN', `setting up ${path}`, () => {
      db.pragma('journal_mode = WAL'); // readers never block the writer; one fsync per commit (sqlite.org/wal.html)
      db.pragma(`synchronous = ${sync}`);
      db.pragma('foreign_keys = ON');
    });
    migrate(db);
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}

function migrate(db: SqliteDb): void {
  db.transaction(() => {
    wrap('FERRY_STORE_OPEN', 'creating the schema', () => db.exec(SCHEMA));
    const row = db.prepare('SELECT value FROM ferry_meta WHERE key = ?').get('schema_version') as { value: string } | undefined;
    const v = row === undefined ? undefined : Number(row.value);
    if (v === undefined) db.prepare('INSERT INTO ferry_meta (key, value) VALUES (?, ?)').run('schema_version', String(SCHEMA_VERSION));
    else if (!(v <= SCHEMA_VERSION)) throw new StoreError('FERRY_STORE_SCHEMA', `schema version ${row!.value} is newer than ${SCHEMA_VERSION}`);
  }).immediate();
}
