/**
 * @module How the function service's Redis stores stay in step across N workers (function-stores.ts says
 * what that means per kind). The ports are synchronous (they sit on the call path; wasm reads namespace
 * state synchronously) and ioredis is not, so each worker keeps a replicated write-through copy: a write (1)
 * changes the local copy synchronously, (2) goes to Redis and (3) is announced on the pub/sub channel
 * `<prefix>fn:changes` in the same MULTI (so the stored value and the announcement follow one order), and
 * the other workers apply the announcement to their copies (typically sub-millisecond on loopback). This
 * file holds the keys, the announcements and the Replicator that sends writes and tracks own writes in flight.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { StoreError } from '../errors.ts';

export const b64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
export const unb64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
export const bytesOf = (b: Uint8Array): Uint8Array => new Uint8Array(b);

/** Owner ids and namespace names never contain '/' (KID_PATTERN, NAMESPACE_PATTERN), so these never collide. */
export const nsKey = (owner: string, namespace: string): string => `${owner}/${namespace}`;

/** An announcement on `<prefix>fn:changes`; `o` is the origin (the announcing store set). */
export type Change =
  | { o: string; k: 'owner'; owner: string; rec: string }
  | { o: string; k: 'module'; h: string }
  | { o: string; k: 'wl'; owner: string; ns: string; h: string; on: boolean }
  | { o: string; k: 'quota'; owner: string; ns: string; maxKeys: number; maxPages: number }
  | { o: string; k: 'state'; owner: string; ns: string; w: [string, string][] }
  | { o: string; k: 'revoke'; j: string; u: number };

/** The keys of the local copy an announcement writes (own writes in flight hold these back from others). */
export const idsOf = (c: Change): string[] => {
  switch (c.k) {
    case 'wl':
      return [`wl ${nsKey(c.owner, c.ns)}/${c.h}`];
    case 'quota':
      return [`quota ${nsKey(c.owner, c.ns)}`];
    case 'state':
      return c.w.map(([k]) => `state ${nsKey(c.owner, c.ns)} ${k}`);
    default:
      return [];
  }
};

/** Redis keys, under the prefix. */
export class Keys {
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
  module(hash: string): string {
    return `${this.#p}fn:module:${hash}`;
  }
  state(nsk: string): string {
    return `${this.#p}fn:state:${nsk}`;
  }
}

export type Multi = ReturnType<Redis['multi']>;

/** Sends writes with their announcement, tracks own writes in flight, routes others' announcements. */
export class Replicator {
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
    this.track(
      m
        .exec()
        .then((res) => {
          const failed = res?.find(([e]) => e !== null)?.[0];
          if (res === null || failed !== undefined) throw failed ?? new Error('MULTI aborted');
        })
        .catch((e: unknown) => {
          this.#settle(ids); // no announcement will come back
          this.onError(new StoreError('FERRY_STORE_UNAVAILABLE', `redis function stores: write not stored: ${String(e)}`));
        }),
    );
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
