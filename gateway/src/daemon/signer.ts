/**
 * @module Signs what the gateway itself produces (readings from sensors that cannot sign, rule outputs) in
 * the same envelope the boards use, with the gateway as the source. The boot epoch is a counter in a
 * SQLite file, incremented and committed before the first message of each run, so (epoch, seq) is never
 * reused across restarts, crashes included.
 */
import Database from 'better-sqlite3';
import { encode, type Claims, type Json } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';

export class GatewaySigner {
  readonly kid: string;
  readonly epoch: number;
  private seq = 0;
  private readonly key: ReturnType<typeof hmacKey>;

  constructor(kid: string, key: Uint8Array, epoch: number) {
    this.kid = kid;
    this.key = hmacKey(key);
    this.epoch = epoch;
  }

  /** Increments and durably stores the boot epoch in `path` (SQLite), returning the new value. */
  static nextEpoch(path: string): number {
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.exec('CREATE TABLE IF NOT EXISTS boot (id INTEGER PRIMARY KEY CHECK (id = 1), epoch INTEGER NOT NULL)');
      return db.transaction(() => {
        db.prepare('INSERT INTO boot (id, epoch) VALUES (1, 1) ON CONFLICT(id) DO UPDATE SET epoch = epoch + 1').run();
        return (db.prepare('SELECT epoch FROM boot WHERE id = 1').get() as { epoch: number }).epoch;
      })();
    } finally {
      db.close();
    }
  }

  /** Signs one event; the sequence number is consumed even if the caller then fails to deliver it. */
  sign(ev: string, data: Readonly<Record<string, Json>>, atMs: number): string {
    const claims: Claims = { iss: this.kid, iat: Math.floor(atMs / 1000), ev, d: data };
    const r = encode({ header: { kid: this.kid, ep: this.epoch, sq: this.seq++ }, claims }, this.key);
    if (!r.ok) throw r.error;
    return r.value;
  }

  get nextSeq(): number {
    return this.seq;
  }
}
