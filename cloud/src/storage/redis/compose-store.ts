/**
 * @module The composite-stream engine's ComposeStore on Redis (scale-out; docs/composite-streams.md): a
 * stream's latest value is one string key; its history is a sorted set of output ids by `lastUpdate` beside
 * a hash of their values, appended by one Lua call (compose-append.lua) that holds each output once (its id
 * is its idempotency key) and drops the oldest past the cap. The stream key is the hash tag, so a stream's
 * keys share a cluster slot.
 */
import type { ComposeStore, StreamValue } from '@ferry/compose';
import { StoreError } from '../errors.ts';
import { command, loadScript, runScript, type RedisClient } from './script.ts';
import { COMPOSE_HISTORY_CAP } from '../sqlite/compose-store.ts';

const APPEND = loadScript('compose-append.lua');

export interface RedisComposeStoreOptions {
  readonly redis: RedisClient;
  /** Key prefix; default `ferry:`. No braces: the hash tag is the stream's. */
  readonly prefix?: string;
  /** Outputs kept per stream (default COMPOSE_HISTORY_CAP). */
  readonly historyCap?: number;
}

export class RedisComposeStore implements ComposeStore {
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #cap: number;

  constructor(o: RedisComposeStoreOptions) {
    const prefix = o.prefix ?? 'ferry:';
    if (/[{}]/.test(prefix)) throw new StoreError('FERRY_STORE_CONFIG', 'prefix must not contain { or }: the hash tag is the stream');
    this.#redis = o.redis;
    this.#prefix = prefix;
    this.#cap = o.historyCap ?? COMPOSE_HISTORY_CAP;
  }

  /** The latest value, the history's sorted set and its values (one slot: the stream key is the hash tag). */
  keys(key: string): readonly [string, string, string] {
    const k = `${this.#prefix}so:{${key}}`;
    return [`${k}:latest`, `${k}:h`, `${k}:v`];
  }

  async latest(key: string): Promise<StreamValue | undefined> {
    const raw = await command('compose latest', () => this.#redis.get(this.keys(key)[0]));
    return raw === null ? undefined : (JSON.parse(raw) as StreamValue);
  }

  async setLatest(key: string, value: StreamValue): Promise<void> {
    await command('compose setLatest', () => this.#redis.set(this.keys(key)[0], JSON.stringify(value)));
  }

  async append(key: string, value: StreamValue): Promise<void> {
    if (this.#cap === 0) return;
    const [, z, h] = this.keys(key);
    await runScript(this.#redis, APPEND, [z, h], [value.id, value.lastUpdate, JSON.stringify(value), this.#cap]);
  }

  async range(key: string, from: number, to: number, limit = Number.MAX_SAFE_INTEGER): Promise<readonly StreamValue[]> {
    const [, z, h] = this.keys(key);
    const ids = await command('compose range', () => this.#redis.zrangebyscore(z, from, to, 'LIMIT', 0, Math.min(limit, 1_000_000)));
    if (ids.length === 0) return [];
    const values = await command('compose range', () => this.#redis.hmget(h, ...ids));
    return values.flatMap((v) => (v === null ? [] : [JSON.parse(v) as StreamValue]));
  }

  async drop(key: string): Promise<void> {
    await command('compose drop', () => this.#redis.del(...this.keys(key)));
  }
}
