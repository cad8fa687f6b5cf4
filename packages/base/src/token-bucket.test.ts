import { describe, expect, it } from 'vitest';
import { TokenBuckets } from './token-bucket.ts';

describe('TokenBuckets', () => {
  it('allows a burst, then the refill rate, per id', () => {
    let now = 0;
    const b = new TokenBuckets({ nowMs: () => now });
    const takes = (id: string, n: number) => Array.from({ length: n }, () => b.take(id, 10, 5)).filter(Boolean).length;
    expect(takes('a', 20)).toBe(5);
    expect(takes('b', 20)).toBe(5);
    now += 300; // 3 calls' worth
    expect(takes('a', 20)).toBe(3);
    now += 10_000; // never more than the burst
    expect(takes('a', 20)).toBe(5);
  });

  it('stays bounded: idle (full) buckets are dropped first', () => {
    let now = 0;
    const b = new TokenBuckets({ nowMs: () => now, maxEntries: 100 });
    for (let i = 0; i < 100; i++) b.take(`t${i}`, 1, 1);
    now += 2000;
    b.take('busy', 1, 1);
    expect(b.size).toBe(1);
    for (let i = 0; i < 500; i++) b.take(`u${i}`, 1, 1);
    expect(b.size).toBeLessThanOrEqual(100);
  });
});
