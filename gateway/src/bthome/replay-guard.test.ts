/** @module ReplayGuard: strictly increasing counters per MAC. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReplayGuard } from './replay-guard.ts';

describe('ReplayGuard', () => {
  it('accepts the first counter of a MAC, then only greater ones', () => {
    const g = new ReplayGuard();
    const codes = [5, 6, 6, 4, 100].map((c) => {
      const r = g.accept('AA:BB:CC:DD:EE:FF', c);
      return r.ok ? r.value : r.error.code;
    });
    expect(codes).toEqual([5, 6, 'FERRY_DECODE_REPLAYED', 'FERRY_DECODE_REPLAYED', 100]);
    expect(g.last('AA:BB:CC:DD:EE:FF')).toBe(100);
  });

  it('treats MAC spellings as one device and different MACs separately', () => {
    const g = new ReplayGuard();
    expect(g.accept('aa-bb-cc-dd-ee-ff', 10).ok).toBe(true);
    expect(g.accept('AABBCCDDEEFF', 10).ok).toBe(false);
    expect(g.accept('11:22:33:44:55:66', 1).ok).toBe(true);
    expect(g.entries()).toEqual([
      ['AA:BB:CC:DD:EE:FF', 10],
      ['11:22:33:44:55:66', 1],
    ]);
  });

  it('is seeded from persisted entries and can forget a device', () => {
    const g = new ReplayGuard([['aa:bb:cc:dd:ee:ff', 7]]);
    expect(g.accept('AA:BB:CC:DD:EE:FF', 7).ok).toBe(false);
    expect(g.forget('AA:BB:CC:DD:EE:FF')).toBe(true);
    expect(g.last('AA:BB:CC:DD:EE:FF')).toBeUndefined();
    expect(g.accept('AA:BB:CC:DD:EE:FF', 0).ok).toBe(true);
  });

  it('accepts exactly the strictly increasing subsequence of any counter stream', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 50 }), { maxLength: 40 }), (counters) => {
        const g = new ReplayGuard();
        const accepted = counters.filter((c) => g.accept('01:02:03:04:05:06', c).ok);
        let max = -1;
        const expected = counters.filter((c) => {
          if (c <= max) return false;
          max = c;
          return true;
        });
        expect(accepted).toEqual(expected);
      }),
    );
  });
});
