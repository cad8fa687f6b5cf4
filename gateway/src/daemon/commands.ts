/**
 * @module Signed commands for the serial boards behind this gateway (docs/actions.md "On the board"). The
 * relay subscribes `<prefix>/dn/<board>/cmd` for each board it knows (its ACL covers its boards' spaces),
 * commits every token to `commands.db` before the broker's PUBACK, and hands the tokens to the board in
 * order, byte for byte, in SIGNED_COMMAND frames; a token leaves the queue once the board has it. While a
 * board is unplugged its tokens wait (across restarts of the gateway too) and go out when it is back. The
 * gateway never reads, alters or signs a command: it has no downlink key, and the board verifies.
 */
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { MAX_TOKEN_BYTES } from '@ferry/message';
import type { SourceProblem } from '../sources/types.ts';

/** What the relay needs of a board (BoardSource is one). */
export interface CommandTarget {
  /** The board's id, once known. */
  readonly boardId: string | undefined;
  readonly connected: boolean;
  /** Called with the board's id whenever it can take commands. */
  onReady(fn: (boardId: string) => void): void;
  /** Hands the token to the board unchanged; rejects when it cannot (closed, no answer). */
  signedCommand(token: Uint8Array): Promise<unknown>;
}

export interface CommandRelayOptions {
  /** The queue's SQLite file (`commands.db` in the data directory). */
  readonly path: string;
  /** The uplink's MQTT connection. */
  readonly client: MqttClient;
  readonly prefix: string;
  readonly boards: readonly CommandTarget[];
  /** Tokens kept per board while it cannot take them; past it the oldest is dropped (default 64). */
  readonly maxQueued?: number;
  readonly problem: (p: SourceProblem) => void;
}

interface Row {
  readonly n: number;
  readonly token: Buffer;
}

export class CommandRelay {
  readonly #o: CommandRelayOptions;
  readonly #db: Database.Database;
  readonly #watched = new Set<string>();
  readonly #draining = new Set<string>();
  readonly #again = new Set<string>();
  readonly #counters = { received: 0, forwarded: 0, refused: 0, droppedOldest: 0 };
  readonly #onMessage = (topic: string, payload: Buffer): void => this.#take(topic, payload);
  #closed = false;

  constructor(o: CommandRelayOptions) {
    this.#o = o;
    this.#db = new Database(o.path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.exec(`CREATE TABLE IF NOT EXISTS boards (id TEXT PRIMARY KEY) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS queue (n INTEGER PRIMARY KEY AUTOINCREMENT, board TEXT NOT NULL, token BLOB NOT NULL);
      CREATE INDEX IF NOT EXISTS queue_board ON queue (board, n);`);
  }

  /** Subscribes for every board known from before and every configured one, and follows boards as they come. */
  async start(): Promise<void> {
    this.#o.client.on('message', this.#onMessage);
    const known = (this.#db.prepare('SELECT id FROM boards').all() as { id: string }[]).map((r) => r.id);
    for (const b of this.#o.boards) {
      if (b.boardId !== undefined) known.push(b.boardId);
      b.onReady((id) => {
        this.#watch(id);
        void this.#drain(id);
      });
    }
    for (const id of known) this.#watch(id);
  }

  #topic(id: string): string {
    return `${this.#o.prefix}/dn/${id}/cmd`;
  }

  #watch(id: string): void {
    if (this.#watched.has(id) || this.#closed) return;
    this.#watched.add(id);
    this.#db.prepare('INSERT OR IGNORE INTO boards (id) VALUES (?)').run(id);
    // mqtt.js subscribes again after every reconnect (resubscribe), so this holds for the daemon's life.
    this.#o.client.subscribe(this.#topic(id), { qos: 1 });
  }

  /** Runs in the client's message event, before the PUBACK: the token is on disk when the broker lets it go. */
  #take(topic: string, payload: Buffer): void {
    const parts = topic.split('/');
    const id = parts.at(-2);
    if (parts.at(-1) !== 'cmd' || id === undefined || !this.#watched.has(id) || topic !== this.#topic(id)) return;
    this.#counters.received++;
    if (payload.length === 0 || payload.length > MAX_TOKEN_BYTES) {
      this.#counters.refused++;
      this.#o.problem({ code: 'FERRY_GW_COMMAND_REFUSED', message: `${payload.length} bytes on ${topic}`, device: id });
      return;
    }
    const max = this.#o.maxQueued ?? 64;
    const dropped = this.#db.transaction((): number => {
      this.#db.prepare('INSERT INTO queue (board, token) VALUES (?, ?)').run(id, payload);
      const over = (this.#db.prepare('SELECT count(*) AS c FROM queue WHERE board = ?').get(id) as { c: number }).c - max;
      if (over > 0) this.#db.prepare('DELETE FROM queue WHERE n IN (SELECT n FROM queue WHERE board = ? ORDER BY n LIMIT ?)').run(id, over);
      return Math.max(0, over);
    })();
    if (dropped > 0) {
      this.#counters.droppedOldest += dropped;
      this.#o.problem({ code: 'FERRY_GW_COMMAND_DROPPED', message: `${id}: queue full (${max}); oldest command dropped`, device: id });
    }
    void this.#drain(id);
  }

  /** Hands the board its queued tokens, oldest first, one at a time; stops at the first that does not go through. */
  async #drain(id: string): Promise<void> {
    if (this.#draining.has(id)) {
      this.#again.add(id);
      return;
    }
    this.#draining.add(id);
    try {
      do {
        this.#again.delete(id);
        const board = this.#o.boards.find((b) => b.boardId === id && b.connected);
        if (board === undefined || this.#closed) return;
        for (;;) {
          if (this.#closed) return;
          const row = this.#db.prepare('SELECT n, token FROM queue WHERE board = ? ORDER BY n LIMIT 1').get(id) as Row | undefined;
          if (row === undefined) break;
          try {
            await board.signedCommand(new Uint8Array(row.token));
          } catch {
            return; // closed or silent: it stays queued and goes out when the board is ready again
          }
          this.#db.prepare('DELETE FROM queue WHERE n = ?').run(row.n);
          this.#counters.forwarded++;
        }
      } while (this.#again.has(id));
    } finally {
      this.#draining.delete(id);
    }
  }

  /** Tokens waiting, per board. */
  queued(): Record<string, number> {
    const rows = this.#db.prepare('SELECT board, count(*) AS c FROM queue GROUP BY board').all() as { board: string; c: number }[];
    return Object.fromEntries(rows.map((r) => [r.board, r.c]));
  }

  stats(): { readonly received: number; readonly forwarded: number; readonly refused: number; readonly droppedOldest: number } {
    return { ...this.#counters };
  }

  close(): void {
    this.#closed = true;
    this.#o.client.off('message', this.#onMessage);
    this.#db.close();
  }
}
