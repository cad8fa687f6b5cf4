/** @module Revoked public tokens on Redis (scale-out), copied in memory on every worker. */
import type { RevocationList } from '../../functions/tokens/revocation.ts';
import type { Replicator } from './replicator.ts';

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
    for (const [k, until] of this.#mem)
      if (until < now) {
        this.#mem.delete(k);
        out.push(k);
      }
    return out;
  }
}
