/**
 * @module Where callback subscriptions are kept: a table of the cloud's database (cloud.db, SQLite). In
 * scale-out the workers share that database in their common data directory (docs/cloud.md, "Running
 * modes"), and each stored value is looked up there when it is stored, so a subscription made through one
 * worker is served by whichever worker computes the stream. The secret must be used to sign, so it cannot
 * be stored hashed: given a sealer, it is sealed under the master key (AES-GCM, bound to the subscription id),
 * and a subscription whose secret no longer opens (another master key) is left out, never signed with a
 * wrong key.
 *
 * The values waiting for delivery are rows too (the outbox), each tagged with the worker that queued it:
 * one is deleted only once delivered or given up, so a restart under the same worker id resumes them.
 */
import type Database from 'better-sqlite3';
import { SecretSealer } from '../functions/tokens/sealed-secret.ts';

export interface Subscription {
  readonly id: string;
  /** The owner who registered it; undefined: a global credential (the cloud's admin). */
  readonly owner: string | undefined;
  readonly so: string;
  readonly stream: string;
  readonly url: string;
  readonly secret: string;
  readonly createdMs: number;
}

/** A value waiting for delivery to one subscription. */
export interface Pending {
  readonly seq: number;
  readonly sub: string;
  /** The JSON body to POST. */
  readonly body: string;
  /** The value's idempotency key (X-Ferry-Delivery). */
  readonly delivery: string;
}

interface Row {
  id: string;
  owner: string | null;
  so: string;
  stream: string;
  url: string;
  secret: string;
  created_ms: number;
}

/** Seals and opens secrets (functions/tokens/sealed-secret.ts SecretSealer). */
export interface Sealer {
  seal(binding: string, secret: Uint8Array): Buffer;
  open(binding: string, sealed: Uint8Array): Uint8Array | undefined;
}
/** A stored secret that is sealed starts with this; the rest is the sealed bytes in base64. */
export const SEALED = 'sealed:';

/** The sealer of callback secrets under the master key (the service's, and the master key rotation's). */
export const callbackSealer = (masterKey: Uint8Array): SecretSealer => new SecretSealer(masterKey, 'ferry so callback secret');

export class SqliteSubscriptionStore {
  readonly #q: {
    add: Database.Statement<[string, string | null, string, string, string, string, number]>;
    ofStream: Database.Statement<[string, string], Row>;
    get: Database.Statement<[string], Row>;
    remove: Database.Statement<[string]>;
    countOwner: Database.Statement<[string], { n: number }>;
    countGlobal: Database.Statement<[], { n: number }>;
    queue: Database.Statement<[string, string, string, string]>;
    done: Database.Statement<[number]>;
    pending: Database.Statement<[string], Pending>;
    dropSub: Database.Statement<[string]>;
  };

  readonly #sealer: Sealer | undefined;

  constructor(db: Database.Database, sealer?: Sealer) {
    this.#sealer = sealer;
    db.exec(`
CREATE TABLE IF NOT EXISTS so_subscriptions (
  id TEXT PRIMARY KEY, owner TEXT, so TEXT NOT NULL, stream TEXT NOT NULL, url TEXT NOT NULL, secret TEXT NOT NULL, created_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS so_subscriptions_stream ON so_subscriptions (so, stream);
CREATE TABLE IF NOT EXISTS so_callback_outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, worker TEXT NOT NULL, sub TEXT NOT NULL, body TEXT NOT NULL, delivery TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS so_callback_outbox_worker ON so_callback_outbox (worker, seq);`);
    this.#q = {
      add: db.prepare('INSERT INTO so_subscriptions (id, owner, so, stream, url, secret, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      ofStream: db.prepare('SELECT * FROM so_subscriptions WHERE so = ? AND stream = ? ORDER BY created_ms, id'),
      get: db.prepare('SELECT * FROM so_subscriptions WHERE id = ?'),
      remove: db.prepare('DELETE FROM so_subscriptions WHERE id = ?'),
      countOwner: db.prepare('SELECT count(*) AS n FROM so_subscriptions WHERE owner = ?'),
      countGlobal: db.prepare('SELECT count(*) AS n FROM so_subscriptions WHERE owner IS NULL'),
      queue: db.prepare('INSERT INTO so_callback_outbox (worker, sub, body, delivery) VALUES (?, ?, ?, ?)'),
      done: db.prepare('DELETE FROM so_callback_outbox WHERE seq = ?'),
      pending: db.prepare('SELECT seq, sub, body, delivery FROM so_callback_outbox WHERE worker = ? ORDER BY seq'),
      dropSub: db.prepare('DELETE FROM so_callback_outbox WHERE sub = ?'),
    };
  }

  add(s: Subscription): void {
    const secret = this.#sealer === undefined ? s.secret : SEALED + this.#sealer.seal(s.id, Buffer.from(s.secret)).toString('base64');
    this.#q.add.run(s.id, s.owner ?? null, s.so, s.stream, s.url, secret, s.createdMs);
  }
  ofStream(so: string, stream: string): Subscription[] {
    return this.#q.ofStream.all(so, stream).flatMap((r) => this.#fromRow(r) ?? []);
  }
  get(id: string): Subscription | undefined {
    const r = this.#q.get.get(id);
    return r === undefined ? undefined : this.#fromRow(r);
  }

  /** The row as a subscription, its secret opened; undefined when the secret does not open. */
  #fromRow(r: Row): Subscription | undefined {
    let secret = r.secret;
    if (secret.startsWith(SEALED)) {
      const opened = this.#sealer?.open(r.id, Buffer.from(secret.slice(SEALED.length), 'base64'));
      if (opened === undefined) return undefined;
      secret = Buffer.from(opened).toString();
    }
    return { id: r.id, owner: r.owner ?? undefined, so: r.so, stream: r.stream, url: r.url, secret, createdMs: r.created_ms };
  }
  remove(id: string): boolean {
    this.#q.dropSub.run(id);
    return this.#q.remove.run(id).changes > 0;
  }
  /** Queues a value for a subscription on behalf of `worker`; answers its outbox row. */
  queue(worker: string, p: Omit<Pending, 'seq'>): Pending {
    const seq = Number(this.#q.queue.run(worker, p.sub, p.body, p.delivery).lastInsertRowid);
    return { seq, ...p };
  }
  /** The value was delivered, or given up. */
  done(seq: number): void {
    this.#q.done.run(seq);
  }
  /** What `worker` queued and has not finished, oldest first. */
  pending(worker: string): Pending[] {
    return this.#q.pending.all(worker);
  }
  /** How many subscriptions an owner (undefined: global credentials) has. */
  countOf(owner: string | undefined): number {
    return (owner === undefined ? this.#q.countGlobal.get() : this.#q.countOwner.get(owner))?.n ?? 0;
  }
}
