/**
 * @module The function service's ports on Redis (scale-out mode): owners, modules, white-lists, namespace
 * state and quotas, and revocations shared by N worker processes, one file per port beside this one. Each
 * worker keeps a replicated write-through copy (replicator.ts): `load()` reads everything into memory at
 * worker start, then writes go to Redis with an announcement the other workers apply to their copies.
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
 * Signing secrets are sealed under the master key exactly as the SQLite stores (../sqlite/function-stores.ts) seal them (every worker needs
 * the same master key: a shared data dir or FERRY_MASTER_KEY).
 */
import type { Redis } from 'ioredis';
import { DEFAULT_QUOTA, type NamespaceQuota } from '../../functions/namespaces/namespace-store.ts';
import { ModuleRegistry } from '../../functions/registry.ts';
import { RedisModuleStore } from './module-store.ts';
import { RedisNamespaceStore } from './namespace-store.ts';
import { RedisOwners, RedisOwnerStore } from './owner-store.ts';
import { Keys, Replicator, idsOf, type Change } from './replicator.ts';
import { RedisRevocationList } from './revocation-list.ts';
import { RedisWhitelist } from './whitelist.ts';

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
    if (c.o === r.origin) {
      r.settle(c);
      return;
    } // applied locally when it was written
    switch (c.k) {
      case 'owner':
        owners.applyRemote(c.owner, c.rec);
        break;
      case 'module':
        modules.applyRemote(c.h);
        break;
      case 'wl':
        if (r.free(idsOf(c)[0]!)) whitelist.applyRemote(c.owner, c.ns, c.h, c.on);
        break;
      case 'quota':
        if (r.free(idsOf(c)[0]!)) namespaces.applyQuota(c.owner, c.ns, { maxKeys: c.maxKeys, maxPages: c.maxPages });
        break;
      case 'state':
        namespaces.state(c.owner, c.ns).applyRemote(c.w);
        break;
      case 'revoke':
        revocations.applyRemote(c.j, c.u);
        break;
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
        sub.on('ready', () => {
          if (!closed) load().catch((e: unknown) => onError(new Error(`redis function stores: reload failed: ${String(e)}`)));
        });
      }
      const [o, m, w, v] = await Promise.all([
        redis.hgetall(keys.owners),
        redis.smembers(keys.modules),
        redis.hkeys(keys.whitelist),
        redis.hgetall(keys.revoked),
      ]);
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
    namespaces,
    whitelist,
    revocations,
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
