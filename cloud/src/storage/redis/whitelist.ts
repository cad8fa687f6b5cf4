/** @module The functions' white-list on Redis (scale-out), copied in memory on every worker. */
import { MemoryWhitelist, type Whitelist } from '../../functions/namespaces/namespace-store.ts';
import { nsKey, type Replicator } from './replicator.ts';

/** The white-list in the hash `<prefix>fn:whitelist` (field `<owner>/<namespace>/<hash>`), copied in memory. */
export class RedisWhitelist implements Whitelist {
  readonly #r: Replicator;
  #mem = new MemoryWhitelist();

  constructor(r: Replicator) {
    this.#r = r;
  }

  allow(owner: string, namespace: string, hash: string): void {
    this.#mem.allow(owner, namespace, hash);
    this.#r.send({ o: this.#r.origin, k: 'wl', owner, ns: namespace, h: hash, on: true }, (m) =>
      m.hset(this.#r.keys.whitelist, `${nsKey(owner, namespace)}/${hash}`, '1'),
    );
  }

  disallow(owner: string, namespace: string, hash: string): void {
    this.#mem.disallow(owner, namespace, hash);
    this.#r.send({ o: this.#r.origin, k: 'wl', owner, ns: namespace, h: hash, on: false }, (m) =>
      m.hdel(this.#r.keys.whitelist, `${nsKey(owner, namespace)}/${hash}`),
    );
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
