import fc from 'fast-check';
import { MemoryState } from '@ferry/wasm-host';
import { describe, expect, it } from 'vitest';
import { OverlayState } from './overlay.ts';
import { snapshotOf, SortedState } from './sorted-state.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const key = fc.stringMatching(/^[a-c.]{1,4}$/);
const ops = fc.array(fc.tuple(key, fc.string({ maxLength: 3 })), { maxLength: 30 });
const all = (s: { keyAt(p: string, i: number): string | undefined }, prefix: string) => {
  const out: string[] = [];
  for (let i = 0; ; i++) {
    const k = s.keyAt(prefix, i);
    if (k === undefined) return out;
    out.push(k);
  }
};

describe('SortedState', () => {
  it('agrees with wasm-host MemoryState on get and key_at (property)', () => {
    fc.assert(
      fc.property(ops, fc.stringMatching(/^[a-c.]{0,2}$/), (writes, prefix) => {
        const a = new SortedState(1000);
        const b = new MemoryState(1000);
        for (const [k, v] of writes) expect(a.set(k, enc(v))).toBe(b.set(k, enc(v)));
        expect(all(a, prefix)).toEqual(all(b, prefix));
        for (const [k] of writes) expect(a.get(k)).toEqual(b.get(k));
      }),
    );
  });

  it('enforces its key quota like MemoryState (QUOTA_EXCEEDED = -4, updates still allowed)', () => {
    const s = new SortedState(2);
    expect([s.set('a', enc('1')), s.set('b', enc('1')), s.set('c', enc('1')), s.set('a', enc('2'))]).toEqual([0, 0, -4, 0]);
  });

  it('snapshotOf reads any KeyValueState through key_at', () => {
    const m = new MemoryState();
    m.setText('b', '2');
    m.setText('a', '1');
    expect(snapshotOf(m).map(([k]) => k)).toEqual(['a', 'b']);
  });
});

describe('OverlayState', () => {
  it('reads like the base with the writes applied, and commits exactly those writes (property)', () => {
    fc.assert(
      fc.property(ops, ops, fc.stringMatching(/^[a-c.]{0,2}$/), (before, writes, prefix) => {
        const base = new SortedState(1000, []);
        for (const [k, v] of before) base.set(k, enc(v));
        const expected = new SortedState(1000, base.entries());
        const o = new OverlayState(base);
        for (const [k, v] of writes) {
          o.set(k, enc(v));
          expected.set(k, enc(v));
        }
        expect(all(o, prefix)).toEqual(all(expected, prefix));
        expect(all(base, prefix)).toEqual(
          all(
            new SortedState(
              1000,
              before.map(([k, v]) => [k, enc(v)] as const),
            ),
            prefix,
          ),
        );
        o.commit();
        expect(base.entries()).toEqual(expected.entries());
      }),
    );
  });

  it('limits new keys, not updates', () => {
    const base = new SortedState(10, [['a', enc('1')]]);
    const o = new OverlayState(base, 1);
    expect([o.set('a', enc('2')), o.set('b', enc('1')), o.set('c', enc('1')), o.set('b', enc('2'))]).toEqual([0, 0, -4, 0]);
  });
});
