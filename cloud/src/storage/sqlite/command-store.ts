/**
 * @module The command store on SQLite (embedded; docs/storage.md): in cloud.db, one row per device queue
 * (JSON), the id index, the finished commands, the broadcasts and the due index. Each update is one
 * immediate transaction, so a queue change, its finished commands and its due time commit together.
 */
import type Database from 'better-sqlite3';
import { emptyQueue, nextDue, type CommandRecord, type DeviceQueue, type Step } from '../../commands/model.ts';
import { FINISHED_RETENTION_MS, type BroadcastRecord, type CommandStore } from '../../commands/store.ts';
import { wrap } from '../errors.ts';

export class SqliteCommandStore implements CommandStore {
  readonly #db: Database.Database;
  readonly #s: Record<string, Database.Statement>;

  constructor(db: Database.Database) {
    this.#db = db;
    wrap('FERRY_STORE_OPEN', 'command store schema', () =>
      db.exec(`
      CREATE TABLE IF NOT EXISTS cmd_queue (device TEXT PRIMARY KEY, json TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS cmd_index (id TEXT PRIMARY KEY, device TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS cmd_done (id TEXT PRIMARY KEY, at INTEGER NOT NULL, json TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS cmd_done_at ON cmd_done (at);
      CREATE TABLE IF NOT EXISTS cmd_due (device TEXT PRIMARY KEY, at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS cmd_due_at ON cmd_due (at);
      CREATE TABLE IF NOT EXISTS cmd_broadcast (id TEXT PRIMARY KEY, at INTEGER NOT NULL, json TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS cmd_owner (id TEXT PRIMARY KEY, owner TEXT NOT NULL, device TEXT NOT NULL, at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS cmd_owner_owner ON cmd_owner (owner, at);
      CREATE INDEX IF NOT EXISTS cmd_owner_device ON cmd_owner (device, at);
      CREATE INDEX IF NOT EXISTS cmd_owner_at ON cmd_owner (at);
      CREATE INDEX IF NOT EXISTS cmd_broadcast_at ON cmd_broadcast (at);`),
    );
    const p = (sql: string): Database.Statement => db.prepare(sql);
    this.#s = {
      getQ: p('SELECT json FROM cmd_queue WHERE device = ?'),
      putQ: p('INSERT INTO cmd_queue (device, json) VALUES (?, ?) ON CONFLICT (device) DO UPDATE SET json = excluded.json'),
      putIdx: p('INSERT OR IGNORE INTO cmd_index (id, device) VALUES (?, ?)'),
      delIdx: p('DELETE FROM cmd_index WHERE id = ?'),
      getIdx: p('SELECT device FROM cmd_index WHERE id = ?'),
      putDone: p('INSERT OR REPLACE INTO cmd_done (id, at, json) VALUES (?, ?, ?)'),
      getDone: p('SELECT json FROM cmd_done WHERE id = ?'),
      putDue: p('INSERT INTO cmd_due (device, at) VALUES (?, ?) ON CONFLICT (device) DO UPDATE SET at = excluded.at'),
      delDue: p('DELETE FROM cmd_due WHERE device = ?'),
      due: p('SELECT device FROM cmd_due WHERE at <= ? ORDER BY at LIMIT ?'),
      putB: p('INSERT OR REPLACE INTO cmd_broadcast (id, at, json) VALUES (?, ?, ?)'),
      getB: p('SELECT json FROM cmd_broadcast WHERE id = ?'),
      pruneDone: p('DELETE FROM cmd_done WHERE at < ?'),
      pruneB: p('DELETE FROM cmd_broadcast WHERE at < ?'),
      putOwner: p('INSERT OR IGNORE INTO cmd_owner (id, owner, device, at) VALUES (?, ?, ?, ?)'),
      pruneOwner: p('DELETE FROM cmd_owner WHERE at < ?'),
      recent: p(
        'SELECT id FROM cmd_owner WHERE (@owner IS NULL OR owner = @owner) AND (@device IS NULL OR device = @device) ORDER BY at DESC, id DESC LIMIT @limit',
      ),
      broadcasts: p(
        "SELECT json FROM cmd_broadcast WHERE (@owner IS NULL OR coalesce(json_extract(json, '$.owner'), '') = @owner) ORDER BY at DESC, id DESC LIMIT @limit",
      ),
    };
  }

  #read(device: string): DeviceQueue {
    const row = this.#s['getQ']!.get(device) as { json: string } | undefined;
    return row === undefined ? emptyQueue(device) : (JSON.parse(row.json) as DeviceQueue);
  }

  async update<T>(device: string, f: (q: DeviceQueue) => Step<T>): Promise<Step<T>> {
    return wrap('FERRY_STORE_UNAVAILABLE', 'command update', () =>
      this.#db
        .transaction(() => {
          const before = this.#read(device);
          const step = f(before);
          if (step.next !== before) {
            this.#s['putQ']!.run(device, JSON.stringify(step.next));
            for (const r of step.next.live) {
              this.#s['putIdx']!.run(r.id, device);
              this.#s['putOwner']!.run(r.id, r.owner ?? '', device, r.createdAt);
            }
            const due = nextDue(step.next);
            if (due === undefined) this.#s['delDue']!.run(device);
            else this.#s['putDue']!.run(device, due);
          }
          for (const r of step.finished) {
            this.#s['putDone']!.run(r.id, r.updatedAt, JSON.stringify(r));
            this.#s['delIdx']!.run(r.id);
          }
          return step;
        })
        .immediate(),
    );
  }

  async queue(device: string): Promise<DeviceQueue> {
    return wrap('FERRY_STORE_UNAVAILABLE', 'command queue', () => this.#read(device));
  }

  async get(id: string): Promise<CommandRecord | undefined> {
    return wrap('FERRY_STORE_UNAVAILABLE', 'command get', () => {
      const done = this.#s['getDone']!.get(id) as { json: string } | undefined;
      if (done !== undefined) return JSON.parse(done.json) as CommandRecord;
      const idx = this.#s['getIdx']!.get(id) as { device: string } | undefined;
      return idx === undefined ? undefined : this.#read(idx.device).live.find((r) => r.id === id);
    });
  }

  async due(now: number, limit: number): Promise<string[]> {
    return wrap('FERRY_STORE_UNAVAILABLE', 'command due', () => (this.#s['due']!.all(now, limit) as { device: string }[]).map((r) => r.device));
  }

  async putBroadcast(b: BroadcastRecord): Promise<void> {
    wrap('FERRY_STORE_UNAVAILABLE', 'broadcast put', () => this.#s['putB']!.run(b.id, b.createdAt, JSON.stringify(b)));
  }

  async broadcast(id: string): Promise<BroadcastRecord | undefined> {
    return wrap('FERRY_STORE_UNAVAILABLE', 'broadcast get', () => {
      const row = this.#s['getB']!.get(id) as { json: string } | undefined;
      return row === undefined ? undefined : (JSON.parse(row.json) as BroadcastRecord);
    });
  }

  async recent(owner: string | null, limit: number, device?: string): Promise<string[]> {
    return wrap('FERRY_STORE_UNAVAILABLE', 'command list', () =>
      (this.#s['recent']!.all({ owner, device: device ?? null, limit }) as { id: string }[]).map((r) => r.id),
    );
  }

  async broadcasts(owner: string | null, limit: number): Promise<BroadcastRecord[]> {
    return wrap('FERRY_STORE_UNAVAILABLE', 'broadcast list', () =>
      (this.#s['broadcasts']!.all({ owner, limit }) as { json: string }[]).map((r) => JSON.parse(r.json) as BroadcastRecord),
    );
  }

  async prune(now: number): Promise<void> {
    wrap('FERRY_STORE_UNAVAILABLE', 'command prune', () => {
      this.#s['pruneDone']!.run(now - FINISHED_RETENTION_MS);
      this.#s['pruneB']!.run(now - FINISHED_RETENTION_MS);
      this.#s['pruneOwner']!.run(now - FINISHED_RETENTION_MS);
    });
  }
}
