/**
 * @module Where the BLE replay guard's counters live across restarts: a SQLite table in the data dir, written
 * through on every accepted counter (one upsert, no fsync under WAL with synchronous=NORMAL: durable against
 * a crash or kill of the process the moment accept() returns; against a power cut, as of the last WAL sync).
 * Saving only every minute, as before, let adverts recorded in the last minute before a crash be replayed
 * after it. A write that fails (full disk) is counted and reported, never thrown into the BLE source.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';

export interface ReplayStoreOptions {
  readonly path: string;
  /** A JSON file of [mac, counter] pairs written by earlier versions; imported once, then removed. */
  readonly legacyJson?: string;
  readonly onError?: (e: Error) => void;
}

export class ReplayStore {
  readonly #db: Database.Database;
  readonly #upsert: Database.Statement<[string, number]>;
  readonly #onError: ((e: Error) => void) | undefined;
  failures = 0;

  constructor(opts: ReplayStoreOptions) {
    this.#db = new Database(opts.path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.exec('CREATE TABLE IF NOT EXISTS ble_replay (mac TEXT PRIMARY KEY, counter INTEGER NOT NULL)');
    // A counter only ever moves up: an out-of-order write (two sources sharing a store) cannot lower it.
    this.#upsert = this.#db.prepare(
      'INSERT INTO ble_replay (mac, counter) VALUES (?, ?) ON CONFLICT(mac) DO UPDATE SET counter = excluded.counter WHERE excluded.counter > counter',
    );
    this.#onError = opts.onError;
    if (opts.legacyJson !== undefined && existsSync(opts.legacyJson)) this.#importLegacy(opts.legacyJson);
  }

  #importLegacy(file: string): void {
    try {
      const pairs = JSON.parse(readFileSync(file, 'utf8')) as [string, number][];
      this.#db.transaction(() => {
        for (const [mac, counter] of pairs) this.#upsert.run(mac, counter);
      })();
      rmSync(file);
    } catch (e) {
      this.#onError?.(e as Error); // an unreadable old file: start from what the table has
    }
  }

  /** Every saved (mac, counter) pair. */
  entries(): [string, number][] {
    return (this.#db.prepare('SELECT mac, counter FROM ble_replay').all() as { mac: string; counter: number }[]).map((r) => [r.mac, r.counter]);
  }

  /** Writes one accepted counter through; never throws. */
  save(mac: string, counter: number): void {
    try {
      this.#upsert.run(mac, counter);
    } catch (e) {
      this.failures++;
      this.#onError?.(e as Error);
    }
  }

  close(): void {
    this.#db.close();
  }
}
