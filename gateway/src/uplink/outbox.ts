/**
 * @module The gateway's store-and-forward buffer: an append-only outbox in a SQLite file (WAL). A reading
 * is committed here BEFORE the gateway acknowledges it to its source, and deleted only after the broker
 * acknowledged it (MQTT PUBACK), so neither an uplink outage nor a kill -9 or power cut of the gateway
 * loses it. Bounded by rows and bytes with a stated policy when full.
 */
import Database from 'better-sqlite3';
import { GatewayError } from './errors.ts';

export type FullPolicy = 'drop-oldest' | 'refuse-new';

export interface OutboxOptions {
  /** SQLite file path, or ':memory:' for tests of logic. */
  readonly path: string;
  /** Most rows kept (default 1,000,000). */
  readonly maxRows?: number;
  /** Most payload bytes kept (default 256 MiB). */
  readonly maxBytes?: number;
  /**
   * When full: 'drop-oldest' (default) deletes the oldest readings to make room — for telemetry the newest
   * data is worth most, and the drops are counted; 'refuse-new' keeps history and refuses the new reading
   * (the caller must not acknowledge it to its source).
   */
  readonly policy?: FullPolicy;
  /**
   * 'FULL' (default) fsyncs every commit: a reading that put() returned for survives a power cut.
   * 'NORMAL' survives a process kill but may lose the last commits on power loss (SQLite docs, "WAL mode").
   */
  readonly synchronous?: 'FULL' | 'NORMAL';
}

export interface OutboxEntry {
  readonly id: number;
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly createdMs: number;
}

export class OutboxFullError extends GatewayError {
  declare readonly code: 'FERRY_GW_OUTBOX_FULL';
  constructor(detail: string) {
    super('FERRY_GW_OUTBOX_FULL', detail);
    this.name = 'OutboxFullError';
  }
}

export interface OutboxStats {
  readonly rows: number;
  readonly bytes: number;
  readonly droppedOldest: number;
  readonly refused: number;
}

export class Outbox {
  private readonly db: Database.Database;
  private readonly maxRows: number;
  private readonly maxBytes: number;
  private readonly policy: FullPolicy;
  private rows: number;
  private bytes: number;
  private droppedOldest = 0;
  private refused = 0;
  private readonly insert: Database.Statement<[string, Uint8Array, number, number]>;
  private readonly oldest: Database.Statement<[number, number]>;
  private readonly remove: Database.Statement<[number]>;
  private readonly dropOldest: Database.Statement<[number]>;

  constructor(opts: OutboxOptions) {
    this.db = new Database(opts.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
    this.db.exec(`CREATE TABLE IF NOT EXISTS outbox (
      id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, payload BLOB NOT NULL,
      bytes INTEGER NOT NULL, created_ms INTEGER NOT NULL)`);
    this.maxRows = opts.maxRows ?? 1_000_000;
    this.maxBytes = opts.maxBytes ?? 256 * 1024 * 1024;
    this.policy = opts.policy ?? 'drop-oldest';
    const totals = this.db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM outbox').get() as { n: number; b: number };
    this.rows = totals.n;
    this.bytes = totals.b;
    this.insert = this.db.prepare('INSERT INTO outbox (topic, payload, bytes, created_ms) VALUES (?, ?, ?, ?)');
    this.oldest = this.db.prepare('SELECT id, topic, payload, created_ms AS createdMs FROM outbox WHERE id > ? ORDER BY id LIMIT ?');
    this.remove = this.db.prepare('DELETE FROM outbox WHERE id = ? RETURNING bytes');
    this.dropOldest = this.db.prepare('DELETE FROM outbox WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT ?) RETURNING bytes');
  }

  /** Commits one reading (durably, per `synchronous`) and returns its id; throws OutboxFullError under 'refuse-new'. */
  put(topic: string, payload: Uint8Array, nowMs: number = Date.now()): number {
    const size = payload.length;
    if (size > this.maxBytes) throw new OutboxFullError(`a ${size}-byte reading can never fit in ${this.maxBytes} bytes`);
    return this.db.transaction(() => {
      if (this.rows + 1 > this.maxRows || this.bytes + size > this.maxBytes) {
        if (this.policy === 'refuse-new') {
          this.refused++;
          throw new OutboxFullError(`${this.rows} readings, ${this.bytes} bytes buffered (limits ${this.maxRows}, ${this.maxBytes})`);
        }
        while (this.rows > 0 && (this.rows + 1 > this.maxRows || this.bytes + size > this.maxBytes)) {
          const freed = this.dropOldest.all(Math.max(1, Math.ceil(this.rows / 100))) as { bytes: number }[];
          for (const f of freed) {
            this.rows--;
            this.bytes -= f.bytes;
            this.droppedOldest++;
          }
        }
      }
      const id = Number(this.insert.run(topic, payload, size, nowMs).lastInsertRowid);
      this.rows++;
      this.bytes += size;
      return id;
    })();
  }

  /** Up to `limit` entries after `afterId`, oldest first. */
  peek(limit: number, afterId = 0): OutboxEntry[] {
    return (this.oldest.all(afterId, limit) as { id: number; topic: string; payload: Buffer; createdMs: number }[]).map((r) => ({
      id: r.id,
      topic: r.topic,
      payload: new Uint8Array(r.payload),
      createdMs: r.createdMs,
    }));
  }

  /** Deletes an entry once the broker acknowledged it. Idempotent. */
  ack(id: number): void {
    const r = this.remove.get(id) as { bytes: number } | undefined;
    if (r !== undefined) {
      this.rows--;
      this.bytes -= r.bytes;
    }
  }

  stats(): OutboxStats {
    return { rows: this.rows, bytes: this.bytes, droppedOldest: this.droppedOldest, refused: this.refused };
  }

  /** Bytes on disk (database + WAL), for the benchmark. */
  fileBytes(): number {
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    return pageSize * pages;
  }

  close(): void {
    this.db.close();
  }
}
