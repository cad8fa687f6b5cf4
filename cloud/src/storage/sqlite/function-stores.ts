/**
 * @module The function service's ports on SQLite (embedded mode): owners, modules, white-lists, namespace
 * state and quotas, and revocations live in tables of the cloud's database (`cloud.db`), so a restarted
 * cloud serves the same owners, modules, white-lists and state without re-registration or re-upload, and
 * schedules (schedule-stores.ts) keep running across a restart.
 * better-sqlite3 is synchronous, as the ports on the call path are. What every call reads (white-list,
 * quotas, revocations, namespace state) is mirrored in memory and written through, so a read costs what the
 * Memory stores cost; the mirror assumes this process is the only writer of these tables, which holds in
 * embedded mode (one process per data dir). Compiled modules stay in the registry's in-memory cache; the
 * table holds each module's bytes once, by SHA-256. An owner's public-token signing secret is sealed under
 * the master key outside the database (AES-256-GCM, as device keys are), so a copy of cloud.db alone mints
 * no token; the private-token verifier is a SHA-256, stored as is.
 */
import type Database from 'better-sqlite3';
import { STATUS } from '@ferry/abi';
import { StoreError } from '../errors.ts';
import { SecretSealer } from '../../functions/tokens/sealed-secret.ts';
import { Owners, type OwnerRecord, type OwnerStore } from '../../functions/tokens/owners.ts';
import type { RevocationList } from '../../functions/tokens/revocation.ts';
import { DEFAULT_QUOTA, MemoryWhitelist, type NamespaceQuota, type NamespaceStore, type Whitelist } from '../../functions/namespaces/namespace-store.ts';
import type { AtomicState } from '../../functions/namespaces/overlay.ts';
import { SortedState } from '../../functions/namespaces/sorted-state.ts';
import { ModuleRegistry, sha256Hex, type ModuleStore } from '../../functions/registry.ts';

type Db = Database.Database;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS fn_owner (
  owner            TEXT PRIMARY KEY,
  verifier         BLOB NOT NULL,
  sealed_secret    BLOB NOT NULL,
  registered_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fn_module (
  hash         TEXT PRIMARY KEY,
  size         INTEGER NOT NULL,
  stored_at_ms INTEGER NOT NULL,
  bytes        BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS fn_whitelist (
  owner     TEXT NOT NULL,
  namespace TEXT NOT NULL,
  hash      TEXT NOT NULL,
  PRIMARY KEY (owner, namespace, hash)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fn_ns_state (
  owner     TEXT NOT NULL,
  namespace TEXT NOT NULL,
  key       TEXT NOT NULL,
  value     BLOB NOT NULL,
  PRIMARY KEY (owner, namespace, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fn_ns_quota (
  owner     TEXT NOT NULL,
  namespace TEXT NOT NULL,
  max_keys  INTEGER NOT NULL,
  max_pages INTEGER NOT NULL,
  PRIMARY KEY (owner, namespace)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fn_revocation (
  jti      TEXT PRIMARY KEY,
  until_ms INTEGER NOT NULL
) WITHOUT ROWID;`;

/** better-sqlite3 reads BLOBs as Buffers; the ports hand out plain Uint8Arrays (a copy). */
const bytesOf = (b: Uint8Array): Uint8Array => new Uint8Array(b);

/** NUL cannot occur in an owner id or a namespace name (both validated), so keys never collide. */
const nsKey = (owner: string, namespace: string): string => `${owner}\u0000${namespace}`;

/**
 * Owners in `fn_owner`. The signing secret is sealed with a key derived from the master key (HKDF, its own
 * label, so it is never the key device rows are sealed with), the owner id as associated data so rows cannot
 * be swapped. A row sealed under another master key reads as absent: its owner cannot authenticate (and
 * cannot re-register the id) until the right key is back.
 */
export class SqliteOwnerStore implements OwnerStore {
  readonly #sealer: SecretSealer;
  readonly #insert: Database.Statement<[string, Uint8Array, Uint8Array, number]>;
  readonly #get: Database.Statement<[string], { verifier: Buffer; sealed_secret: Buffer; registered_at_ms: number }>;

  constructor(db: Db, opts: { masterKey: Uint8Array }) {
    if (opts.masterKey.length !== 32) throw new StoreError('FERRY_STORE_CONFIG', 'the master key must be 32 bytes');
    this.#sealer = new SecretSealer(opts.masterKey);
    db.exec(SCHEMA);
    this.#insert = db.prepare<[string, Uint8Array, Uint8Array, number]>(
      'INSERT OR IGNORE INTO fn_owner (owner, verifier, sealed_secret, registered_at_ms) VALUES (?, ?, ?, ?)',
    );
    this.#get = db.prepare<[string], { verifier: Buffer; sealed_secret: Buffer; registered_at_ms: number }>(
      'SELECT verifier, sealed_secret, registered_at_ms FROM fn_owner WHERE owner = ?',
    );
  }

  get(owner: string): OwnerRecord | undefined {
    const row = this.#get.get(owner);
    if (row === undefined) return undefined;
    const signingSecret = this.#sealer.open(owner, row.sealed_secret);
    return signingSecret === undefined ? undefined : { owner, verifier: bytesOf(row.verifier), signingSecret, registeredAtMs: row.registered_at_ms };
  }

  insert(r: OwnerRecord): boolean {
    return this.#insert.run(r.owner, r.verifier, this.#sealer.seal(r.owner, r.signingSecret), r.registeredAtMs).changes === 1;
  }
}

/**
 * Module bytes in `fn_module`, once per SHA-256 (with their size and when they were first stored). A row
 * whose bytes no longer hash to its key (a damaged file) is deleted and reads as absent, so the caller is
 * told FERRY_FN_MODULE_NEEDED and its re-upload stores the module again.
 */
export class SqliteModuleStore implements ModuleStore {
  readonly #get: Database.Statement<[string], { bytes: Buffer }>;
  readonly #put: Database.Statement<[string, number, number, Uint8Array]>;
  readonly #delete: Database.Statement<[string]>;
  readonly #count: Database.Statement<[], { n: number }>;
  readonly #nowMs: () => number;

  constructor(db: Db, opts: { nowMs?: (() => number) | undefined } = {}) {
    db.exec(SCHEMA);
    this.#nowMs = opts.nowMs ?? Date.now;
    this.#get = db.prepare<[string], { bytes: Buffer }>('SELECT bytes FROM fn_module WHERE hash = ?');
    this.#put = db.prepare<[string, number, number, Uint8Array]>('INSERT OR IGNORE INTO fn_module (hash, size, stored_at_ms, bytes) VALUES (?, ?, ?, ?)');
    this.#delete = db.prepare<[string]>('DELETE FROM fn_module WHERE hash = ?');
    this.#count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM fn_module');
  }

  async get(hash: string): Promise<Uint8Array | undefined> {
    const row = this.#get.get(hash);
    if (row === undefined) return undefined;
    if (sha256Hex(row.bytes) !== hash) {
      this.#delete.run(hash);
      return undefined;
    }
    return bytesOf(row.bytes);
  }

  async put(hash: string, bytes: Uint8Array): Promise<void> {
    this.#put.run(hash, bytes.length, this.#nowMs(), bytes);
  }

  get size(): number {
    return this.#count.get()!.n;
  }
}

/** The white-list in `fn_whitelist`, mirrored in memory (checked on every public-token call). */
export class SqliteWhitelist implements Whitelist {
  readonly #mirror = new MemoryWhitelist();
  readonly #allow: Database.Statement<[string, string, string]>;
  readonly #disallow: Database.Statement<[string, string, string]>;

  constructor(db: Db) {
    db.exec(SCHEMA);
    this.#allow = db.prepare<[string, string, string]>('INSERT OR IGNORE INTO fn_whitelist (owner, namespace, hash) VALUES (?, ?, ?)');
    this.#disallow = db.prepare<[string, string, string]>('DELETE FROM fn_whitelist WHERE owner = ? AND namespace = ? AND hash = ?');
    const rows = db.prepare<[], { owner: string; namespace: string; hash: string }>('SELECT owner, namespace, hash FROM fn_whitelist').all();
    for (const r of rows) this.#mirror.allow(r.owner, r.namespace, r.hash);
  }

  allow(owner: string, namespace: string, hash: string): void {
    this.#allow.run(owner, namespace, hash);
    this.#mirror.allow(owner, namespace, hash);
  }

  disallow(owner: string, namespace: string, hash: string): void {
    this.#disallow.run(owner, namespace, hash);
    this.#mirror.disallow(owner, namespace, hash);
  }

  has(owner: string, namespace: string, hash: string): boolean {
    return this.#mirror.has(owner, namespace, hash);
  }

  list(owner: string, namespace: string): string[] {
    return this.#mirror.list(owner, namespace);
  }
}

/** Revoked jtis in `fn_revocation` until their token's exp, mirrored in memory (checked on every call). */
export class SqliteRevocationList implements RevocationList {
  readonly #mirror = new Map<string, number>();
  readonly #revoke: (jti: string, untilMs: number, nowMs: number) => void;
  readonly #nowMs: () => number;

  constructor(db: Db, nowMs: () => number = Date.now) {
    db.exec(SCHEMA);
    this.#nowMs = nowMs;
    const put = db.prepare<[string, number]>('INSERT OR REPLACE INTO fn_revocation (jti, until_ms) VALUES (?, ?)');
    const prune = db.prepare<[number]>('DELETE FROM fn_revocation WHERE until_ms < ?');
    this.#revoke = db.transaction((jti: string, untilMs: number, now: number) => {
      put.run(jti, untilMs);
      prune.run(now);
    });
    prune.run(nowMs());
    for (const r of db.prepare<[], { jti: string; until_ms: number }>('SELECT jti, until_ms FROM fn_revocation').all()) this.#mirror.set(r.jti, r.until_ms);
  }

  isRevoked(jti: string): boolean {
    return this.#mirror.has(jti);
  }

  revoke(jti: string, untilMs: number): void {
    const now = this.#nowMs();
    this.#revoke(jti, untilMs, now);
    this.#mirror.set(jti, untilMs);
    for (const [k, until] of this.#mirror) if (until < now) this.#mirror.delete(k);
  }

  get size(): number {
    return this.#mirror.size;
  }
}

interface StateStatements {
  readonly load: Database.Statement<[string, string], { key: string; value: Buffer }>;
  readonly upsert: Database.Statement<[string, string, string, Uint8Array]>;
  readonly transaction: <T>(apply: () => T) => T;
}

/**
 * One namespace's state: `fn_ns_state` rows, read through a sorted in-memory copy (loaded on first use).
 * A write goes to SQLite first, then to the copy, so a failing write changes neither. A call's commit
 * (overlay.ts commitWrites) runs in `atomically`: one IMMEDIATE transaction for all its writes; if it
 * fails, SQLite rolls back and the copy is reloaded from it.
 */
class SqliteState implements AtomicState {
  #mem: SortedState;
  readonly #owner: string;
  readonly #namespace: string;
  readonly #sql: StateStatements;
  readonly #maxKeys: () => number;

  constructor(owner: string, namespace: string, sql: StateStatements, maxKeys: () => number) {
    this.#owner = owner;
    this.#namespace = namespace;
    this.#sql = sql;
    this.#maxKeys = maxKeys;
    this.#mem = this.#load();
  }

  get(key: string): Uint8Array | undefined {
    return this.#mem.get(key);
  }

  /** The quota is read at each new key, so a changed quota applies to new keys from then on. */
  set(key: string, value: Uint8Array): number {
    if (this.#mem.get(key) === undefined && this.#mem.size >= this.#maxKeys()) return STATUS.QUOTA_EXCEEDED.value;
    const v = value.slice();
    this.#sql.upsert.run(this.#owner, this.#namespace, key, v);
    this.#mem.set(key, v);
    return STATUS.OK.value;
  }

  keyAt(prefix: string, index: number): string | undefined {
    return this.#mem.keyAt(prefix, index);
  }

  get size(): number {
    return this.#mem.size;
  }

  atomically<T>(apply: () => T): T {
    try {
      return this.#sql.transaction(apply);
    } catch (e) {
      this.#mem = this.#load();
      throw e;
    }
  }

  #load(): SortedState {
    // The quota is enforced by set(); the copy itself holds whatever the table holds.
    return new SortedState(
      Infinity,
      this.#sql.load.all(this.#owner, this.#namespace).map((r) => [r.key, bytesOf(r.value)] as const),
    );
  }
}

/** Namespace state in `fn_ns_state` (one row per key) and quotas in `fn_ns_quota` (read on every call: mirrored). */
export class SqliteNamespaceStore implements NamespaceStore {
  readonly #spaces = new Map<string, SqliteState>();
  readonly #quotas = new Map<string, NamespaceQuota>();
  readonly #defaultQuota: NamespaceQuota;
  readonly #sql: StateStatements;
  readonly #setQuota: Database.Statement<[string, string, number, number]>;

  constructor(db: Db, opts: { defaultQuota?: NamespaceQuota | undefined } = {}) {
    db.exec(SCHEMA);
    this.#defaultQuota = opts.defaultQuota ?? DEFAULT_QUOTA;
    const tx = db.transaction((apply: () => unknown) => apply());
    this.#sql = {
      load: db.prepare<[string, string], { key: string; value: Buffer }>('SELECT key, value FROM fn_ns_state WHERE owner = ? AND namespace = ?'),
      upsert: db.prepare<[string, string, string, Uint8Array]>(`
        INSERT INTO fn_ns_state (owner, namespace, key, value) VALUES (?, ?, ?, ?)
        ON CONFLICT (owner, namespace, key) DO UPDATE SET value = excluded.value`),
      // IMMEDIATE takes the write lock first, so the commit cannot fail half-way on SQLITE_BUSY.
      transaction: <T>(apply: () => T): T => tx.immediate(apply) as T,
    };
    this.#setQuota = db.prepare<[string, string, number, number]>(
      'INSERT OR REPLACE INTO fn_ns_quota (owner, namespace, max_keys, max_pages) VALUES (?, ?, ?, ?)',
    );
    const rows = db
      .prepare<[], { owner: string; namespace: string; max_keys: number; max_pages: number }>('SELECT owner, namespace, max_keys, max_pages FROM fn_ns_quota')
      .all();
    for (const r of rows) this.#quotas.set(nsKey(r.owner, r.namespace), { maxKeys: r.max_keys, maxPages: r.max_pages });
  }

  state(owner: string, namespace: string): SqliteState {
    const k = nsKey(owner, namespace);
    let s = this.#spaces.get(k);
    if (s === undefined) {
      s = new SqliteState(owner, namespace, this.#sql, () => this.quota(owner, namespace).maxKeys);
      this.#spaces.set(k, s);
    }
    return s;
  }

  quota(owner: string, namespace: string): NamespaceQuota {
    return this.#quotas.get(nsKey(owner, namespace)) ?? this.#defaultQuota;
  }

  /** Sets a namespace's quota (an operator's decision; a lower key quota applies to new keys only). */
  setQuota(owner: string, namespace: string, quota: NamespaceQuota): void {
    this.#setQuota.run(owner, namespace, quota.maxKeys, quota.maxPages);
    this.#quotas.set(nsKey(owner, namespace), { maxKeys: quota.maxKeys, maxPages: quota.maxPages });
  }
}

export interface SqliteFunctionStoresOptions {
  /** Seals owners' signing secrets (devices/registry.ts loadMasterKey: kept outside the database). */
  readonly masterKey: Uint8Array;
  /** Registration and module timestamps, and when revocations expire (default Date.now). */
  readonly nowMs?: (() => number) | undefined;
  readonly defaultQuota?: NamespaceQuota | undefined;
}

/** Every store the FunctionService keeps, on one SQLite database: spread into its ServiceOptions. */
export function sqliteFunctionStores(
  db: Db,
  opts: SqliteFunctionStoresOptions,
): {
  registry: ModuleRegistry;
  owners: Owners;
  namespaces: SqliteNamespaceStore;
  whitelist: SqliteWhitelist;
  revocations: SqliteRevocationList;
} {
  const nowMs = opts.nowMs ?? Date.now;
  return {
    registry: new ModuleRegistry({ store: new SqliteModuleStore(db, { nowMs }) }),
    owners: new Owners({ store: new SqliteOwnerStore(db, { masterKey: opts.masterKey }), nowMs }),
    namespaces: new SqliteNamespaceStore(db, { defaultQuota: opts.defaultQuota }),
    whitelist: new SqliteWhitelist(db),
    revocations: new SqliteRevocationList(db, nowMs),
  };
}
