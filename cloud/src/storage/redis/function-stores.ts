/**
 * @module The function service's ports on Redis (scale-out mode): owners, modules, white-lists, namespace
 * state and quotas, and revocations shared by N worker processes. The ports are synchronous (they sit on the
 * call path; wasm reads namespace state synchronously) and ioredis is not, so each worker keeps a replicated
 * write-through cache: `load()` reads everything into memory at worker start; a write then (1) changes the
 * local copy synchronously, (2) goes to Redis and (3) is announced on the pub/sub channel `<prefix>fn:changes`
 * in the same MULTI (so the stored value and the announcement follow one order), and the other workers apply
 * the announcement to their copies (typically sub-millisecond on loopback).
 *
 * Consistency, by kind:
 * - Namespace state, white-lists and quotas: last writer wins per key, in the order Redis executed the writes.
 *   A worker ignores another's announcement for a key while a write of its own to that key is in flight (its
 *   own was executed later, as announcements arrive in execution order), so copies converge on what Redis
 *   holds. Until then a worker reads its own view: two calls on two workers may both read counter = 1 and both
 *   write 2 (no cross-worker read-modify-write isolation), and a namespace's key quota is checked against the
 *   local view, so concurrent writers can exceed it by a few keys.
 * - Owners: first one wins across workers (HSETNX in a Lua script that announces only the winner). `insert`
 *   answers from the local copy at once, so two workers registering one id within a round trip (or before the
 *   other's announcement arrived) may both answer "registered"; the loser then adopts the winner's record
 *   (reconcile) and its private token stops authenticating (RedisOwners re-checks contested owners, bypassing
 *   the caches of Owners). That window is one Redis round trip.
 * - Modules: bytes once per SHA-256 (SET NX) and read from Redis on a registry miss (ModuleStore is async), so
 *   an upload through one worker is callable through any other as soon as it answered; nothing is announced
 *   but the hash (for `size`).
 * - Revocations: a jti is revoked on every worker once the announcement arrived (a set, no conflicts).
 *
 * A failing Redis write is reported through `onError`; the local copy keeps it until the worker restarts. When
 * the subscriber connection reconnects, announcements sent meanwhile are lost, so the worker reloads.
 * Signing secrets are sealed under the master key exactly as sqlite-stores.ts seals them (every worker needs
 * the same master key: a shared data dir or FERRY_MASTER_KEY).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { STATUS } from '@ferry/abi';
import { hmacKey } from '@ferry/message/node';
import type { HmacKey } from '@ferry/message';
import { fnFail, type FnResult } from '@ferry/wasm-host';
import { StoreError } from '../errors.ts';
import { SecretSealer } from '../../functions/tokens/sealed-secret.ts';
import { Owners, type OwnerRecord, type OwnerStore } from '../../functions/tokens/owners.ts';
import { parsePrivateToken, privateVerifier, sameBytes } from '../../functions/tokens/private-token.ts';
import type { RevocationList } from '../../functions/tokens/revocation.ts';
import { DEFAULT_QUOTA, MemoryWhitelist, type NamespaceQuota, type NamespaceStore, type Whitelist } from '../../functions/namespaces/namespace-store.ts';
import type { AtomicState } from '../../functions/namespaces/overlay.ts';
import { SortedState } from '../../functions/namespaces/sorted-state.ts';
import { ModuleRegistry, sha256Hex, type ModuleStore } from '../../functions/registry.ts';

const b64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
const unb64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
const bytesOf = (b: Uint8Array): Uint8Array => new Uint8Array(b);

/** Owner ids and namespace names never contain '/' (KID_PATTERN, NAMESPACE_PATTERN), so these never collide. */
const nsKey = (owner: string, namespace: string): string => `${owner}/${namespace}`;

/** An announcement on `<prefix>fn:changes`; `o` is the origin (the announcing store set). */
type Change =
  | { o: string; k: 'owner'; owner: string; rec: string }
  | { o: string; k: 'module'; h: string }
  | { o: string; k: 'wl'; owner: string; ns: string; h: string; on: boolean }
  | { o: string; k: 'quota'; owner: string; ns: string; maxKeys: number; maxPages: number }
  | { o: string; k: 'state'; owner: string; ns: string; w: [string, string][] }
  | { o: string; k: 'revoke'; j: string; u: number };

/** The keys of the local copy an announcement writes (own writes in flight hold these back from others). */
const idsOf = (c: Change): string[] => {
  switch (c.k) {
    case 'wl': return [`wl ${nsKey(c.owner, c.ns)}/${c.h}`];
    case 'quota': return [`quota ${nsKey(c.owner, c.ns)}`];
    case 'state': return c.w.map(([k]) => `state ${nsKey(c.owner, c.ns)} ${k}`);
    default: return [];
  }
};

/** HSETNX, announced only when this one won: the owner id stays first-one-wins across workers. */
const INSERT_OWNER = `if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then redis.call('PUBLISH', ARGV[3], ARGV[4]) return 1 end return 0`;

/** Redis keys, under the prefix. */
class Keys {
  readonly owners: string;
  readonly modules: string;
  readonly whitelist: string;
  readonly quotas: string;
  readonly namespaces: string;
  readonly revoked: string;
  readonly channel: string;
  readonly #p: string;
  constructor(p: string) {
    this.#p = p;
    this.owners = `${p}fn:owners`;
    this.modules = `${p}fn:modules`;
    this.whitelist = `${p}fn:whitelist`;
    this.quotas = `${p}fn:quotas`;
    this.namespaces = `${p}fn:namespaces`;
    this.revoked = `${p}fn:revoked`;
    this.channel = `${p}fn:changes`;
  }
  module(hash: string): string { return `${this.#p}fn:module:${hash}`; }
  state(nsk: string): string { return `${this.#p}fn:state:${nsk}`; }
}

type Multi = ReturnType<Redis['multi']>;

/** Sends writes with their announcement, tracks own writes in flight, routes others' announcements. */
class Replicator {
  readonly origin = randomBytes(8).toString('hex');
  readonly redis: Redis;
  readonly keys: Keys;
  readonly onError: (e: Error) => void;
  /** Own writes sent whose announcement has not come back yet, by local key. */
  readonly #inFlight = new Map<string, number>();
  readonly #sent = new Set<Promise<unknown>>();

  constructor(redis: Redis, keys: Keys, onError: (e: Error) => void) {
    this.redis = redis;
    this.keys = keys;
    this.onError = onError;
  }

  /** The write (`build`) and its announcement in one MULTI; not awaited by the synchronous ports. */
  send(change: Change, build: (m: Multi) => void): void {
    const ids = idsOf(change);
    for (const id of ids) this.#inFlight.set(id, (this.#inFlight.get(id) ?? 0) + 1);
    const m = this.redis.multi();
    build(m);
    m.publish(this.keys.channel, JSON.stringify(change));
    this.track(m.exec().then((res) => {
      const failed = res?.find(([e]) => e !== null)?.[0];
      if (res === null || failed !== undefined) throw failed ?? new Error('MULTI aborted');
    }).catch((e: unknown) => {
      this.#settle(ids); // no announcement will come back
      this.onError(new StoreError('FERRY_STORE_UNAVAILABLE', `redis function stores: write not stored: ${String(e)}`));
    }));
  }

  track(p: Promise<unknown>): void {
    this.#sent.add(p);
    void p.finally(() => this.#sent.delete(p));
  }

  /** Our own announcement came back: the write was executed; others' writes to its keys apply again. */
  settle(change: Change): void {
    this.#settle(idsOf(change));
  }

  /**
   * Whether another worker's write to a local key applies: not while an own write to it is in flight, since
   * announcements arrive in the order Redis executed the writes, so ours was executed after theirs.
   */
  free(id: string): boolean {
    return !this.#inFlight.has(id);
  }

  async flush(): Promise<void> {
    while (this.#sent.size > 0) await Promise.allSettled([...this.#sent]);
  }

  #settle(ids: string[]): void {
    for (const id of ids) {
      const n = (this.#inFlight.get(id) ?? 0) - 1;
      if (n > 0) this.#inFlight.set(id, n);
      else this.#inFlight.delete(id);
    }
  }
}

/** One owner as stored: JSON of the verifier, the sealed signing secret and the registration time. */
interface StoredOwner { readonly v: string; readonly s: string; readonly t: number }

/**
 * Owners in the hash `<prefix>fn:owners` (field = owner id), the signing secret sealed with a key derived from
 * the master key (HKDF, label 'ferry owner signing secret', AES-256-GCM, the owner id as associated data: the
 * same sealing as SqliteOwnerStore). A record sealed under another master key reads as absent and keeps its id.
 */
export class RedisOwnerStore implements OwnerStore {
  readonly #sealer: SecretSealer;
  readonly #r: Replicator;
  /** undefined: the id is taken by a record this worker cannot open. */
  #map = new Map<string, OwnerRecord | undefined>();
  /** Owners whose local record was replaced by another worker's (a lost race): see RedisOwners. */
  readonly contested = new Set<string>();

  constructor(r: Replicator, masterKey: Uint8Array) {
    if (masterKey.length !== 32) throw new StoreError('FERRY_STORE_CONFIG', 'the master key must be 32 bytes');
    this.#sealer = new SecretSealer(masterKey);
    this.#r = r;
  }

  get(owner: string): OwnerRecord | undefined {
    return this.#map.get(owner);
  }

  /** Answers from the local copy (first one wins across workers: see the module comment for the window). */
  insert(r: OwnerRecord): boolean {
    if (this.#map.has(r.owner)) return false;
    this.#map.set(r.owner, { owner: r.owner, verifier: bytesOf(r.verifier), signingSecret: bytesOf(r.signingSecret), registeredAtMs: r.registeredAtMs });
    const rec = JSON.stringify({ v: b64(r.verifier), s: b64(this.#sealer.seal(r.owner, r.signingSecret)), t: r.registeredAtMs } satisfies StoredOwner);
    const change: Change = { o: this.#r.origin, k: 'owner', owner: r.owner, rec };
    const redis = this.#r.redis;
    this.#r.track(redis.eval(INSERT_OWNER, 1, this.#r.keys.owners, r.owner, rec, this.#r.keys.channel, JSON.stringify(change)).then(async (won) => {
      if (won === 1) return;
      // Another worker registered the id first: adopt its record.
      const winner = await redis.hget(this.#r.keys.owners, r.owner);
      if (winner !== null) this.#adopt(r.owner, winner);
    }).catch((e: unknown) => this.#r.onError(new StoreError('FERRY_STORE_UNAVAILABLE', `redis owner store: ${r.owner} not stored: ${String(e)}`))));
    return true;
  }

  /** The whole hash, at load. */
  replaceAll(rows: Record<string, string>): void {
    const map = new Map<string, OwnerRecord | undefined>();
    for (const [owner, rec] of Object.entries(rows)) map.set(owner, this.#decode(owner, rec));
    for (const [owner, before] of this.#map) {
      const after = map.get(owner);
      if (before !== undefined && after !== undefined && !sameBytes(before.verifier, after.verifier)) this.contested.add(owner);
    }
    this.#map = map;
  }

  /** Another worker's announcement: it won its HSETNX. */
  applyRemote(owner: string, rec: string): void {
    const mine = this.#map.get(owner);
    const theirs = this.#decode(owner, rec);
    if (mine !== undefined && theirs !== undefined && sameBytes(mine.verifier, theirs.verifier)) return;
    this.#adopt(owner, rec);
  }

  #adopt(owner: string, rec: string): void {
    if (this.#map.has(owner)) this.contested.add(owner);
    this.#map.set(owner, this.#decode(owner, rec));
  }

  #decode(owner: string, rec: string): OwnerRecord | undefined {
    try {
      const o = JSON.parse(rec) as StoredOwner;
      const signingSecret = this.#sealer.open(owner, Buffer.from(o.s, 'base64'));
      return signingSecret === undefined ? undefined : { owner, verifier: unb64(o.v), signingSecret, registeredAtMs: o.t };
    } catch {
      return undefined;
    }
  }
}

/**
 * Owners whose record another worker replaced (a lost registration race) bypass the caches of Owners, which
 * may still hold the losing record's token or key; every other owner keeps the cached fast path.
 */
export class RedisOwners extends Owners {
  readonly #store: RedisOwnerStore;

  constructor(store: RedisOwnerStore, nowMs: () => number) {
    super({ store, nowMs });
    this.#store = store;
  }

  override authenticate(privateToken: string): FnResult<string> {
    const r = super.authenticate(privateToken);
    if (!r.ok || !this.#store.contested.has(r.value)) return r;
    const p = parsePrivateToken(privateToken);
    const rec = this.#store.get(r.value);
    if (!p.ok || rec === undefined || !sameBytes(rec.verifier, privateVerifier(p.value.secret))) return fnFail('FERRY_FN_BAD_TOKEN', 'unknown private token');
    return r;
  }

  override publicKey(owner: string): HmacKey | undefined {
    if (!this.#store.contested.has(owner)) return super.publicKey(owner);
    const rec = this.#store.get(owner);
    return rec === undefined ? undefined : hmacKey(rec.signingSecret);
  }
}

/**
 * Module bytes in `<prefix>fn:module:<sha256>` (SET NX: stored once), their hashes in the set
 * `<prefix>fn:modules`. Reads go to Redis (the registry caches compiled modules), so an upload through one
 * worker is found by every other on its first miss. Bytes that no longer hash to their key read as absent and
 * are dropped, as in SqliteModuleStore, so a re-upload stores them again.
 */
export class RedisModuleStore implements ModuleStore {
  readonly #r: Replicator;
  #known = new Set<string>();

  constructor(r: Replicator) {
    this.#r = r;
  }

  async get(hash: string): Promise<Uint8Array | undefined> {
    const bytes = await this.#r.redis.getBuffer(this.#r.keys.module(hash));
    if (bytes === null) return undefined;
    if (sha256Hex(bytes) !== hash) {
      await this.#r.redis.multi().del(this.#r.keys.module(hash)).srem(this.#r.keys.modules, hash).exec();
      this.#known.delete(hash);
      return undefined;
    }
    return bytesOf(bytes);
  }

  /** Awaited by the upload: the module is in Redis before the uploader is answered. */
  async put(hash: string, bytes: Uint8Array): Promise<void> {
    const change: Change = { o: this.#r.origin, k: 'module', h: hash };
    const res = await this.#r.redis.multi()
      .set(this.#r.keys.module(hash), Buffer.from(bytes), 'NX')
      .sadd(this.#r.keys.modules, hash)
      .publish(this.#r.keys.channel, JSON.stringify(change))
      .exec();
    const failed = res?.find(([e]) => e !== null)?.[0];
    if (res === null || failed !== undefined) throw failed ?? new StoreError('FERRY_STORE_UNAVAILABLE', 'MULTI aborted');
    this.#known.add(hash);
  }

  /** Modules stored, as this worker last heard. */
  get size(): number {
    return this.#known.size;
  }

  replaceAll(hashes: string[]): void {
    this.#known = new Set(hashes);
  }

  applyRemote(hash: string): void {
    this.#known.add(hash);
  }
}

/** The white-list in the hash `<prefix>fn:whitelist` (field `<owner>/<namespace>/<hash>`), copied in memory. */
export class RedisWhitelist implements Whitelist {
  readonly #r: Replicator;
  #mem = new MemoryWhitelist();

  constructor(r: Replicator) {
    this.#r = r;
  }

  allow(owner: string, namespace: string, hash: string): void {
    this.#mem.allow(owner, namespace, hash);
    this.#r.send({ o: this.#r.origin, k: 'wl', owner, ns: namespace, h: hash, on: true }, (m) => m.hset(this.#r.keys.whitelist, `${nsKey(owner, namespace)}/${hash}`, '1'));
  }

  disallow(owner: string, namespace: string, hash: string): void {
    this.#mem.disallow(owner, namespace, hash);
    this.#r.send({ o: this.#r.origin, k: 'wl', owner, ns: namespace, h: hash, on: false }, (m) => m.hdel(this.#r.keys.whitelist, `${nsKey(owner, namespace)}/${hash}`));
  }

  has(owner: string, namespace: string, hash: string): boolean {
    return this.#mem.has(owner, namespace, hash);
  }

  list(owner: string, namespace: string): string[] {
    return this.#mem.list(owner, namespace);
  }

  replaceAll(fields: string[]): void {
    const mem = new MemoryWhitelist();
    for (const f of fields) {
      const [owner, namespace, hash] = f.split('/');
      if (owner !== undefined && namespace !== undefined && hash !== undefined) mem.allow(owner, namespace, hash);
    }
    this.#mem = mem;
  }

  applyRemote(owner: string, namespace: string, hash: string, on: boolean): void {
    if (on) this.#mem.allow(owner, namespace, hash);
    else this.#mem.disallow(owner, namespace, hash);
  }
}

/** Revoked jtis in the hash `<prefix>fn:revoked` (jti -> until ms), copied in memory; expired ones are dropped. */
export class RedisRevocationList implements RevocationList {
  readonly #r: Replicator;
  readonly #nowMs: () => number;
  #mem = new Map<string, number>();

  constructor(r: Replicator, nowMs: () => number) {
    this.#r = r;
    this.#nowMs = nowMs;
  }

  isRevoked(jti: string): boolean {
    return this.#mem.has(jti);
  }

  revoke(jti: string, untilMs: number): void {
    this.#mem.set(jti, untilMs);
    const expired = this.#prune();
    this.#r.send({ o: this.#r.origin, k: 'revoke', j: jti, u: untilMs }, (m) => {
      m.hset(this.#r.keys.revoked, jti, String(untilMs));
      if (expired.length > 0) m.hdel(this.#r.keys.revoked, ...expired);
    });
  }

  get size(): number {
    return this.#mem.size;
  }

  replaceAll(rows: Record<string, string>): void {
    this.#mem = new Map(Object.entries(rows).map(([j, u]) => [j, Number(u)] as const));
    this.#prune();
  }

  applyRemote(jti: string, untilMs: number): void {
    this.#mem.set(jti, untilMs);
    this.#prune();
  }

  #prune(): string[] {
    const now = this.#nowMs();
    const out: string[] = [];
    for (const [k, until] of this.#mem) if (until < now) { this.#mem.delete(k); out.push(k); }
    return out;
  }
}

/**
 * One namespace's state: the hash `<prefix>fn:state:<owner>/<namespace>`, read through a sorted local copy.
 * A call's commit (overlay.ts commitWrites) runs in `atomically`: its writes go to Redis in one MULTI with one
 * announcement, so other workers apply them together; if `apply` throws, the local copy is restored and
 * nothing is sent.
 */
class RedisState implements AtomicState {
  mem = new SortedState(Infinity);
  readonly #owner: string;
  readonly #namespace: string;
  readonly #r: Replicator;
  readonly #maxKeys: () => number;
  /** Writes of the commit in progress, and each key's value before it (undefined: absent). */
  #batch: [string, Uint8Array][] | undefined;
  #before = new Map<string, Uint8Array | undefined>();

  constructor(owner: string, namespace: string, r: Replicator, maxKeys: () => number) {
    this.#owner = owner;
    this.#namespace = namespace;
    this.#r = r;
    this.#maxKeys = maxKeys;
  }

  get(key: string): Uint8Array | undefined {
    return this.mem.get(key);
  }

  /** The quota is read at each new key, against this worker's view (see the module comment). */
  set(key: string, value: Uint8Array): number {
    if (this.mem.get(key) === undefined && this.mem.size >= this.#maxKeys()) return STATUS.QUOTA_EXCEEDED.value;
    const v = value.slice();
    if (this.#batch !== undefined) {
      if (!this.#before.has(key)) this.#before.set(key, this.mem.get(key));
      this.#batch.push([key, v]);
    }
    this.mem.set(key, v);
    if (this.#batch === undefined) this.#send([[key, v]]);
    return STATUS.OK.value;
  }

  keyAt(prefix: string, index: number): string | undefined {
    return this.mem.keyAt(prefix, index);
  }

  get size(): number {
    return this.mem.size;
  }

  atomically<T>(apply: () => T): T {
    if (this.#batch !== undefined) return apply(); // joins the outer commit
    const batch: [string, Uint8Array][] = [];
    this.#batch = batch;
    this.#before = new Map();
    try {
      const out = apply();
      if (batch.length > 0) this.#send(batch);
      return out;
    } catch (e) {
      const restored = new Map(this.mem.entries());
      for (const [k, v] of this.#before) if (v === undefined) restored.delete(k); else restored.set(k, v);
      this.mem = new SortedState(Infinity, restored);
      throw e;
    } finally {
      this.#batch = undefined;
      this.#before = new Map();
    }
  }

  /** Another worker's writes, except keys an own write in flight holds back (it was executed later). */
  applyRemote(writes: [string, string][]): void {
    const nsk = nsKey(this.#owner, this.#namespace);
    for (const [k, v] of writes) if (this.#r.free(`state ${nsk} ${k}`)) this.mem.set(k, unb64(v));
  }

  #send(writes: [string, Uint8Array][]): void {
    const nsk = nsKey(this.#owner, this.#namespace);
    const fields: (string | Buffer)[] = [];
    for (const [k, v] of writes) fields.push(k, Buffer.from(v));
    this.#r.send({ o: this.#r.origin, k: 'state', owner: this.#owner, ns: this.#namespace, w: writes.map(([k, v]) => [k, b64(v)]) }, (m) => {
      m.hset(this.#r.keys.state(nsk), ...fields);
      m.sadd(this.#r.keys.namespaces, nsk);
    });
  }
}

/** Namespace state (a hash per namespace, indexed in `<prefix>fn:namespaces`) and quotas (`<prefix>fn:quotas`). */
export class RedisNamespaceStore implements NamespaceStore {
  readonly #r: Replicator;
  readonly #defaultQuota: NamespaceQuota;
  readonly #spaces = new Map<string, RedisState>();
  #quotas = new Map<string, NamespaceQuota>();

  constructor(r: Replicator, defaultQuota: NamespaceQuota) {
    this.#r = r;
    this.#defaultQuota = defaultQuota;
  }

  state(owner: string, namespace: string): RedisState {
    const k = nsKey(owner, namespace);
    let s = this.#spaces.get(k);
    if (s === undefined) {
      s = new RedisState(owner, namespace, this.#r, () => this.quota(owner, namespace).maxKeys);
      this.#spaces.set(k, s);
    }
    return s;
  }

  quota(owner: string, namespace: string): NamespaceQuota {
    return this.#quotas.get(nsKey(owner, namespace)) ?? this.#defaultQuota;
  }

  /** Sets a namespace's quota (an operator's decision; a lower key quota applies to new keys only). */
  setQuota(owner: string, namespace: string, quota: NamespaceQuota): void {
    const q = { maxKeys: quota.maxKeys, maxPages: quota.maxPages };
    this.#quotas.set(nsKey(owner, namespace), q);
    this.#r.send({ o: this.#r.origin, k: 'quota', owner, ns: namespace, ...q }, (m) => m.hset(this.#r.keys.quotas, nsKey(owner, namespace), JSON.stringify(q)));
  }

  /** Reads every namespace's state and the quotas (at load). */
  async loadAll(): Promise<void> {
    const redis = this.#r.redis;
    const [names, quotas] = await Promise.all([redis.smembers(this.#r.keys.namespaces), redis.hgetall(this.#r.keys.quotas)]);
    const p = redis.pipeline();
    for (const nsk of names) p.hgetallBuffer(this.#r.keys.state(nsk));
    const rows = (await p.exec()) ?? [];
    this.#quotas = new Map(Object.entries(quotas).map(([k, v]) => [k, JSON.parse(v) as NamespaceQuota] as const));
    names.forEach((nsk, i) => {
      const [err, hash] = rows[i] ?? [new Error('no reply'), undefined];
      if (err !== null) throw err;
      const [owner, namespace] = nsk.split('/') as [string, string];
      this.state(owner, namespace).mem = new SortedState(Infinity, Object.entries(hash as Record<string, Buffer>).map(([k, v]) => [k, bytesOf(v)] as const));
    });
  }

  applyQuota(owner: string, namespace: string, quota: NamespaceQuota): void {
    this.#quotas.set(nsKey(owner, namespace), quota);
  }
}

export interface RedisFunctionStoresOptions {
  /** Seals owners' signing secrets (the same key on every worker: a shared data dir or FERRY_MASTER_KEY). */
  readonly masterKey: Uint8Array;
  /** Key and channel prefix (default 'ferry:'). */
  readonly prefix?: string | undefined;
  /** A second connection, for pub/sub (a subscribed connection runs no other command); closed by `close()`. */
  readonly subscriber: Redis;
  /** Registration times and when revocations expire (default Date.now). */
  readonly nowMs?: (() => number) | undefined;
  readonly defaultQuota?: NamespaceQuota | undefined;
  /** A write that did not reach Redis (kept locally); default console.error. */
  readonly onError?: ((e: Error) => void) | undefined;
}

export interface RedisFunctionStores {
  readonly registry: ModuleRegistry;
  readonly owners: RedisOwners;
  readonly namespaces: RedisNamespaceStore;
  readonly whitelist: RedisWhitelist;
  readonly revocations: RedisRevocationList;
  /** The raw ports (tests, the conformance suite). */
  readonly stores: { readonly owners: RedisOwnerStore; readonly modules: RedisModuleStore };
  /** Subscribes, then reads everything into memory; await it before serving calls. Again after a reconnect. */
  load(): Promise<void>;
  /** Waits for the writes sent so far (tests; before stopping). */
  flush(): Promise<void>;
  /** Flushes, unsubscribes and closes the subscriber connection. */
  close(): Promise<void>;
}

/** Every store the FunctionService keeps, shared through Redis: spread into its ServiceOptions after `load()`. */
export function redisFunctionStores(redis: Redis, opts: RedisFunctionStoresOptions): RedisFunctionStores {
  const nowMs = opts.nowMs ?? Date.now;
  const keys = new Keys(opts.prefix ?? 'ferry:');
  const onError = opts.onError ?? ((e: Error) => console.error(e.message));
  const r = new Replicator(redis, keys, onError);
  const owners = new RedisOwnerStore(r, opts.masterKey);
  const modules = new RedisModuleStore(r);
  const whitelist = new RedisWhitelist(r);
  const revocations = new RedisRevocationList(r, nowMs);
  const namespaces = new RedisNamespaceStore(r, opts.defaultQuota ?? DEFAULT_QUOTA);
  const sub = opts.subscriber;

  const apply = (c: Change): void => {
    if (c.o === r.origin) { r.settle(c); return; } // applied locally when it was written
    switch (c.k) {
      case 'owner': owners.applyRemote(c.owner, c.rec); break;
      case 'module': modules.applyRemote(c.h); break;
      case 'wl': if (r.free(idsOf(c)[0]!)) whitelist.applyRemote(c.owner, c.ns, c.h, c.on); break;
      case 'quota': if (r.free(idsOf(c)[0]!)) namespaces.applyQuota(c.owner, c.ns, { maxKeys: c.maxKeys, maxPages: c.maxPages }); break;
      case 'state': namespaces.state(c.owner, c.ns).applyRemote(c.w); break;
      case 'revoke': revocations.applyRemote(c.j, c.u); break;
    }
  };
  /** Announcements that arrive while loading wait until the copy is read, then apply in order. */
  let queue: Change[] | undefined;
  let subscribed = false;
  let closed = false;
  const onMessage = (channel: string, text: string): void => {
    if (channel !== keys.channel) return;
    let c: Change;
    try {
      c = JSON.parse(text) as Change;
    } catch {
      return;
    }
    if (queue !== undefined) queue.push(c);
    else apply(c);
  };

  /** One load at a time; one asked for meanwhile (a reconnect) runs after it. */
  let loading: Promise<void> | undefined;
  let again = false;
  const load = (): Promise<void> => {
    if (loading !== undefined) {
      again = true;
      return loading;
    }
    loading = loadOnce().finally(() => {
      loading = undefined;
      if (again && !closed) {
        again = false;
        load().catch((e: unknown) => onError(new Error(`redis function stores: reload failed: ${String(e)}`)));
      }
    });
    return loading;
  };
  const loadOnce = async (): Promise<void> => {
    queue = [];
    try {
      await r.flush(); // own writes land before the copy is read again (a reload after a reconnect)
      if (!subscribed) {
        sub.on('message', onMessage);
        await sub.subscribe(keys.channel);
        subscribed = true;
        // Announcements sent while the subscriber was away are lost: read everything again.
        sub.on('ready', () => { if (!closed) load().catch((e: unknown) => onError(new Error(`redis function stores: reload failed: ${String(e)}`))); });
      }
      const [o, m, w, v] = await Promise.all([redis.hgetall(keys.owners), redis.smembers(keys.modules), redis.hkeys(keys.whitelist), redis.hgetall(keys.revoked)]);
      await namespaces.loadAll();
      owners.replaceAll(o);
      modules.replaceAll(m);
      whitelist.replaceAll(w);
      revocations.replaceAll(v);
    } finally {
      const pending = queue;
      queue = undefined;
      for (const c of pending) apply(c);
    }
  };

  return {
    registry: new ModuleRegistry({ store: modules }),
    owners: new RedisOwners(owners, nowMs),
    namespaces, whitelist, revocations,
    stores: { owners, modules },
    load,
    flush: () => r.flush(),
    close: async () => {
      closed = true;
      await r.flush();
      sub.off('message', onMessage);
      await sub.quit().catch(() => sub.disconnect());
    },
  };
}
