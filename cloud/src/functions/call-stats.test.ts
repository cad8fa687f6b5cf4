/** Call counters per (owner, hash): counts, the last error, newest first, bounded per owner, owners apart. */
import { describe, expect, it } from 'vitest';
import { CallStats } from './call-stats.ts';

describe('CallStats', () => {
  it('counts calls and errors per owner and hash, newest first, with the last error', () => {
    const s = new CallStats();
    s.record('alice', 'h1', 10);
    s.record('alice', 'h2', 20, 'FERRY_FN_TRAP');
    s.record('alice', 'h1', 30, 'FERRY_FN_TIMEOUT');
    s.record('bob', 'h1', 40);
    expect(s.of('alice', 10)).toEqual([
      { hash: 'h1', calls: 2, errors: 1, lastCallMs: 30, lastError: 'FERRY_FN_TIMEOUT' },
      { hash: 'h2', calls: 1, errors: 1, lastCallMs: 20, lastError: 'FERRY_FN_TRAP' },
    ]);
    expect(s.of('alice', 1).map((x) => x.hash)).toEqual(['h1']);
    expect(s.of('bob', 10)).toEqual([{ hash: 'h1', calls: 1, errors: 0, lastCallMs: 40 }]);
    expect(s.of('carol', 10)).toEqual([]);
  });

  it('forgets the hash called least recently past the per-owner bound', () => {
    const s = new CallStats(3);
    for (const [i, h] of ['a', 'b', 'c', 'a', 'd'].entries()) s.record('o', h, i);
    expect(s.of('o', 10).map((x) => x.hash)).toEqual(['d', 'a', 'c']);
  });
});
