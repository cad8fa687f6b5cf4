/** @module Function modules on Redis (scale-out): the ModuleStore port, bytes stored once per SHA-256. */
import { StoreError } from '../errors.ts';
import { sha256Hex, type ModuleStore } from '../../functions/registry.ts';
import { bytesOf, type Change, type Replicator } from './replicator.ts';

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
    const res = await this.#r.redis
      .multi()
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
