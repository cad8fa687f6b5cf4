/** Unit tests of group assembly inside the sequencing step. */
import type { Group } from '@ferry/message';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reorderFlush, reorderTick } from './reorder.ts';
import type { ReorderConfig } from './reorder-types.ts';
import { brief, fold, type Msg } from '@ferry/test-kit/ingest';

const cfg: ReorderConfig = { window: 16, timeoutMs: 100, groupTimeoutMs: 1_000, maxOpenGroups: 2 };
const g = (id: number, part: number, parts: number): Group => ({ id, part, parts });
const m = (sq: number, group?: Group, at = 0, ep = 1): Msg => (group === undefined ? { ep, sq, at } : { ep, sq, group, at });

describe('groups', () => {
  it('a complete group is released once, as one event, where its last part falls in sequence', () => {
    const r = fold(cfg, [m(0), m(2, g(7, 1, 3)), m(1, g(7, 0, 3)), m(4), m(3, g(7, 2, 3))]);
    expect(brief(r.released)).toEqual(['1:0', 'grp 1#7 [0,1,2] complete', '1:4']);
    expect(r.state!.groups).toEqual([]);
  });
  it('parts may be numbered in any order relative to their seqs', () => {
    const r = fold(cfg, [m(0, g(1, 2, 3)), m(1, g(1, 0, 3)), m(2, g(1, 1, 3))]);
    const grp = r.released[0]!;
    expect(grp.type === 'group' && grp.members.map((x) => [x.part, x.sq])).toEqual([
      [0, 1],
      [1, 2],
      [2, 0],
    ]);
  });
  it('an incomplete group is released after groupTimeoutMs with its missing parts', () => {
    const r = fold(cfg, [m(0, g(3, 0, 3), 10), m(1, g(3, 2, 3), 20)]);
    expect(reorderTick(r.state!, 1_009, cfg).released).toEqual([]);
    expect(brief(reorderTick(r.state!, 1_010, cfg).released)).toEqual(['grp 1#3 [0,2] -[1] timeout']);
  });
  it('a new epoch releases the open groups of the old one incomplete', () => {
    const r = fold(cfg, [m(0, g(3, 0, 2)), m(0, undefined, 0, 2)]);
    expect(brief(r.released)).toEqual(['grp 1#3 [0] -[1] epoch', '2:0']);
  });
  it('beyond maxOpenGroups the oldest open group is released incomplete', () => {
    const r = fold(cfg, [m(0, g(1, 0, 2)), m(1, g(2, 0, 2)), m(2, g(3, 0, 2))]);
    expect(brief(r.released)).toEqual(['grp 1#1 [0] -[1] overflow']);
    expect(r.state!.groups.map((x) => x.id)).toEqual([2, 3]);
  });
  it('a part contradicting its open group closes that group and starts a new one; nothing is lost', () => {
    const r = fold(cfg, [m(0, g(5, 0, 2)), m(1, g(5, 0, 2)), m(2, g(5, 0, 3))]);
    expect(brief(r.released)).toEqual(['grp 1#5 [0] -[1] conflict', 'grp 1#5 [0] -[1] conflict']);
    expect(r.state!.groups).toHaveLength(1);
  });
  it('flush releases open groups', () => {
    const r = fold(cfg, [m(0, g(9, 1, 2))]);
    expect(brief(reorderFlush(r.state!, 0, cfg).released)).toEqual(['grp 1#9 [1] -[0] flush']);
  });
  it('a single-part group is complete at once', () => {
    expect(brief(fold(cfg, [m(0, g(4, 0, 1))]).released)).toEqual(['grp 1#4 [0] complete']);
  });
});

describe('group properties', () => {
  /** A layout: consecutive runs of seqs, each a standalone message (parts 0) or a group of `parts` parts. */
  const layoutArb = fc.array(fc.record({ parts: fc.integer({ min: 0, max: 4 }), order: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }) }), {
    minLength: 1,
    maxLength: 8,
  });
  it('any permutation within a window: each group released once, complete, with all its parts; standalone messages once', () => {
    fc.assert(
      fc.property(layoutArb, fc.array(fc.integer(), { minLength: 40, maxLength: 40 }), (layout, keys) => {
        const msgs: Msg[] = [];
        const want: string[] = [];
        layout.forEach((l, id) => {
          if (l.parts === 0) {
            want.push(`1:${msgs.length}`);
            msgs.push(m(msgs.length));
            return;
          }
          // Parts in any order of their indices across consecutive seqs.
          const parts = Array.from({ length: l.parts }, (_, i) => i).sort((a, b) => (l.order[a] ?? 0) - (l.order[b] ?? 0));
          for (const part of parts) msgs.push(m(msgs.length, g(id, part, l.parts)));
          want.push(`grp 1#${id} [${Array.from({ length: l.parts }, (_, i) => i).join(',')}] complete`);
        });
        const shuffled = msgs
          .map((x, i) => ({ x, k: keys[i] ?? 0 }))
          .sort((a, b) => a.k - b.k)
          .map((y) => y.x);
        const r = fold({ ...cfg, window: 64, maxOpenGroups: 8 }, shuffled);
        expect(r.outcomes.every((o) => o === 'accepted')).toBe(true);
        expect(brief(r.released)).toEqual(want); // in order of each group's last seq
        expect(r.state!.groups).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
