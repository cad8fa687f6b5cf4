/**
 * @module The revocation list port: public tokens are revoked by their jti until they would have expired
 * anyway (after exp the expiry check refuses them, so the entry can go). Synchronous: it is checked on
 * every call; a Redis implementation keeps a local copy refreshed by pub/sub.
 */

export interface RevocationList {
  isRevoked(jti: string): boolean;
  /** Revokes until `untilMs` (the token's exp); entries may be dropped after that. */
  revoke(jti: string, untilMs: number): void;
}

export class MemoryRevocationList implements RevocationList {
  private readonly map = new Map<string, number>();
  private readonly nowMs: () => number;
  constructor(nowMs: () => number = Date.now) {
    this.nowMs = nowMs;
  }
  isRevoked(jti: string): boolean {
    return this.map.has(jti);
  }
  revoke(jti: string, untilMs: number): void {
    this.map.set(jti, untilMs);
    const now = this.nowMs();
    for (const [k, until] of this.map) if (until < now) this.map.delete(k);
  }
  get size(): number {
    return this.map.size;
  }
}
