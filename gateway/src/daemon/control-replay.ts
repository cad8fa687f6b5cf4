/**
 * @module The control channel's replay window on disk: the ids of the control requests this gateway served,
 * each until its request's timestamp is stale, in `control-replay.db` of the data directory. An id is
 * committed (WAL, synchronous=FULL) before its request runs, so a request captured off the wire is refused
 * after a restart or a crash as well (docs/gateway.md, "The control protocol").
 */
import Database from 'better-sqlite3';
import { DEFAULT_REPLAY_WINDOW, type ReplayWindow } from '@ferry/mqtt-rest';

export class SqliteReplayWindow implements ReplayWindow {
  readonly #db: Database.Database;
  readonly #max: number;
  readonly #has: Database.Statement<[string, number]>;
  readonly #prune: Database.Statement<[number]>;
  readonly #count: Database.Statement<[]>;
  readonly #insert: Database.Statement<[string, number]>;

  constructor(path: string, max = DEFAULT_REPLAY_WINDOW) {
    this.#max = max;
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.exec('CREATE TABLE IF NOT EXISTS control_replay (id TEXT PRIMARY KEY, until_ms INTEGER NOT NULL) WITHOUT ROWID');
    this.#db.exec('CREATE INDEX IF NOT EXISTS control_replay_until ON control_replay (until_ms)');
    this.#has = this.#db.prepare('SELECT 1 FROM control_replay WHERE id = ? AND until_ms >= ?');
    this.#prune = this.#db.prepare('DELETE FROM control_replay WHERE until_ms < ?');
    this.#count = this.#db.prepare('SELECT count(*) AS n FROM control_replay');
    this.#insert = this.#db.prepare('INSERT INTO control_replay (id, until_ms) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET until_ms = excluded.until_ms');
  }

  has(id: string, nowMs: number): boolean {
    return this.#has.get(id, nowMs) !== undefined;
  }

  add(id: string, untilMs: number, nowMs: number): 'added' | 'full' {
    return this.#db.transaction((): 'added' | 'full' => {
      this.#prune.run(nowMs);
      if ((this.#count.get() as { n: number }).n >= this.#max) return 'full';
      this.#insert.run(id, untilMs);
      return 'added';
    })();
  }

  get size(): number {
    return (this.#count.get() as { n: number }).n;
  }

  close(): void {
    this.#db.close();
  }
}
