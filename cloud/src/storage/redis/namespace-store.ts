/** @module Namespace state and quotas on Redis (scale-out): a hash per namespace, read through a local copy. */
import { STATUS } from '@ferry/abi';
import type { NamespaceQuota, NamespaceStore } from '../../functions/namespaces/namespace-store.ts';
import type { AtomicState } from '../../functions/namespaces/overlay.ts';
import { SortedState } from '../../functions/namespaces/sorted-state.ts';
import { b64, bytesOf, nsKey, unb64, type Replicator } from './replicator.ts';

/**
 * One namespace's state: the hash `<prefix>fn:state:<owner>/<namespace>`, read through a sorted local copy.
 * A call's commit (overlay.ts commitWrites) runs in `atomically`: its writes go to Redis in one MULTI with one
 * announcement, so other workers apply them together; if `apply` throws, the local copy is restored and
 * nothing is sent.
 */
export class RedisState implements AtomicState {
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
      for (const [k, v] of this.#before)
        if (v === undefined) restored.delete(k);
        else restored.set(k, v);
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
      this.state(owner, namespace).mem = new SortedState(
        Infinity,
        Object.entries(hash as Record<string, Buffer>).map(([k, v]) => [k, bytesOf(v)] as const),
      );
    });
  }

  applyQuota(owner: string, namespace: string, quota: NamespaceQuota): void {
    this.#quotas.set(nsKey(owner, namespace), quota);
  }
}
