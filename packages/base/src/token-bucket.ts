/**
 * @module Token buckets keyed by id (a device, a token, an owner): a bucket holds up to `burst` takes and
 * refills at `perSecond`; a take succeeds or is refused. Clock injected; buckets idle long enough to be
 * full again are forgotten, so memory stays bounded by the ids active in the last few seconds.
 */

interface Bucket {
  tokens: number;
  atMs: number;
  /** When the bucket will be full again, i.e. indistinguishable from a new one. */
  fullAtMs: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly nowMs: () => number;
  private readonly maxEntries: number;

  constructor(opts: { nowMs?: () => number; maxEntries?: number } = {}) {
    this.nowMs = opts.nowMs ?? Date.now;
    this.maxEntries = opts.maxEntries ?? 100_000;
  }

  /** Takes one call from `id`'s bucket; false when empty. */
  take(id: string, perSecond: number, burst: number): boolean {
    const now = this.nowMs();
    let b = this.buckets.get(id);
    if (b === undefined) {
      if (this.buckets.size >= this.maxEntries) this.prune(now);
      b = { tokens: burst, atMs: now, fullAtMs: now };
      this.buckets.set(id, b);
    } else if (now > b.atMs) {
      b.tokens = Math.min(burst, b.tokens + ((now - b.atMs) / 1000) * perSecond);
      b.atMs = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    b.fullAtMs = now + ((burst - b.tokens) / Math.max(perSecond, 1e-9)) * 1000;
    return true;
  }

  private prune(now: number): void {
    for (const [k, b] of this.buckets) if (b.fullAtMs <= now) this.buckets.delete(k);
    // Still full of active buckets: drop the oldest (Map keeps insertion order) rather than grow.
    while (this.buckets.size >= this.maxEntries) this.buckets.delete(this.buckets.keys().next().value!);
  }

  get size(): number {
    return this.buckets.size;
  }
}
