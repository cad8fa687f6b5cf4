/** Unit tests of the pure sequencing step: anti-replay classification, re-ordering, gaps, epochs, timeouts. */
import { describe, expect, it } from 'vitest';
import { IngestError } from './errors.ts';
import { checkReorderConfig, classify, initialState, nextDeadline, reorderFlush, reorderStep, reorderTick } from './reorder.ts';
import type { ReorderConfig } from './reorder-types.ts';
import { brief, fold } from '@ferry/test-kit/ingest';

const cfg: ReorderConfig = { window: 8, timeoutMs: 100, groupTimeoutMs: 1_000, maxOpenGroups: 2 };
const seq = (ep: number, ...sqs: number[]) => sqs.map((sq) => ({ ep, sq }));

describe('re-order', () => {
  it('releases in-order messages at once', () => {
    const r = fold(cfg, seq(1, 0, 1, 2));
    expect(r.outcomes).toEqual(['accepted', 'accepted', 'accepted']);
    expect(brief(r.released)).toEqual(['1:0', '1:1', '1:2']);
    expect(r.state).toMatchObject({ ep: 1, next: 3, pending: [] });
  });
  it('holds a message until the gap before it fills, then releases the run', () => {
    const r = fold(cfg, seq(1, 0, 2, 3));
    expect(brief(r.released)).toEqual(['1:0']);
    expect(r.state!.pending.map((p) => p.sq)).toEqual([2, 3]);
    const f = fold(cfg, seq(1, 1), r.state);
    expect(brief(f.released)).toEqual(['1:1', '1:2', '1:3']);
  });
  it('a source first seen mid-epoch waits for seq 0 like any gap (every epoch starts at 0)', () => {
    const r = fold(cfg, [{ ep: 5, sq: 3, at: 0 }]);
    expect(r.released).toEqual([]);
    const t = reorderTick(r.state!, 100, cfg);
    expect(brief(t.released)).toEqual(['gap 5:[0,3)', '5:3']);
  });
  it('slides the window when a message is W or more ahead, recording the gaps it jumps', () => {
    const r = fold(cfg, seq(1, 0, 2, 9));
    // 9 >= next(1) + 8: the window slides to next = 2, releasing the hole at 1; 2 then runs, 3..8 still owed.
    expect(brief(r.released)).toEqual(['1:0', 'gap 1:[1,2)', '1:2']);
    expect(r.state!.next).toBe(3);
    const far = fold(cfg, seq(1, 100), r.state);
    expect(brief(far.released)).toEqual(['gap 1:[3,9)', '1:9', 'gap 1:[10,93)']);
    expect(far.state!.next).toBe(93);
    expect(far.state!.pending.map((p) => p.sq)).toEqual([100]);
  });
  it('a message waits at most timeoutMs; tick and the next message apply the same timeouts', () => {
    const r = fold(cfg, [
      { ep: 1, sq: 0, at: 0 },
      { ep: 1, sq: 2, at: 10 },
      { ep: 1, sq: 5, at: 50 },
    ]);
    expect(reorderTick(r.state!, 109, cfg).released).toEqual([]);
    expect(brief(reorderTick(r.state!, 110, cfg).released)).toEqual(['gap 1:[1,2)', '1:2']);
    expect(brief(reorderTick(r.state!, 150, cfg).released)).toEqual(['gap 1:[1,2)', '1:2', 'gap 1:[3,5)', '1:5']);
    // The same timeouts, applied by the next message instead of a tick:
    const viaMsg = fold(cfg, [{ ep: 1, sq: 7, at: 150 }], r.state);
    expect(brief(viaMsg.released)).toEqual(['gap 1:[1,2)', '1:2', 'gap 1:[3,5)', '1:5']);
    expect(viaMsg.state!.pending.map((p) => p.sq)).toEqual([7]);
  });
  it('flush releases everything buffered; trailing losses stay unknown (no gap after the last seen seq)', () => {
    const r = fold(cfg, seq(1, 0, 3, 5));
    const f = reorderFlush(r.state!, 0, cfg);
    expect(brief(f.released)).toEqual(['gap 1:[1,3)', '1:3', 'gap 1:[4,5)', '1:5']);
    expect(f.state).toMatchObject({ next: 6, pending: [] });
  });
  it('nextDeadline is the earliest pending timeout', () => {
    const r = fold(cfg, [
      { ep: 1, sq: 2, at: 5 },
      { ep: 1, sq: 1, at: 7 },
    ]);
    expect(nextDeadline(r.state!, cfg)).toBe(105);
    expect(nextDeadline(initialState(1, cfg), cfg)).toBeUndefined();
  });
});

describe('anti-replay', () => {
  it('drops a duplicate of a buffered message and of a released one', () => {
    const r = fold(cfg, seq(1, 0, 2, 2, 0));
    expect(r.outcomes).toEqual(['accepted', 'accepted', 'duplicate', 'duplicate']);
    expect(brief(r.released)).toEqual(['1:0']);
  });
  it('a seq already recorded as a gap is late, not released out of order', () => {
    const r = fold(cfg, [
      { ep: 1, sq: 0, at: 0 },
      { ep: 1, sq: 2, at: 0 },
      { ep: 1, sq: 1, at: 100 },
    ]);
    expect(r.outcomes).toEqual(['accepted', 'accepted', 'late']);
    expect(brief(r.released)).toEqual(['1:0', 'gap 1:[1,2)', '1:2']);
  });
  it('below the window is a replay, whatever it was', () => {
    const r = fold(cfg, [...seq(1, ...Array.from({ length: 20 }, (_, i) => i)), ...seq(1, 3, 11, 12, 19)]);
    expect(r.outcomes.slice(20)).toEqual(['replay', 'replay', 'duplicate', 'duplicate']);
  });
  it('an older epoch is late, even for a seq never seen', () => {
    const r = fold(cfg, [...seq(2, 0), ...seq(1, 0), ...seq(1, 7)]);
    expect(r.outcomes).toEqual(['accepted', 'late', 'late']);
  });
  it('classify reads without writing', () => {
    const s = fold(cfg, seq(1, 0, 1, 3)).state!;
    const copy = structuredClone(s);
    expect([classify(s, 1, 1, cfg), classify(s, 1, 3, cfg), classify(s, 1, 2, cfg), classify(s, 0, 9, cfg), classify(s, 2, 0, cfg)]).toEqual([
      'duplicate',
      'duplicate',
      'accepted',
      'late',
      'new-epoch',
    ]);
    expect(s).toEqual(copy);
  });
});

describe('epochs', () => {
  it('a new epoch releases everything pending of the old one, then starts at 0', () => {
    const r = fold(cfg, [...seq(1, 0, 2, 4), ...seq(2, 1), ...seq(2, 0)]);
    expect(brief(r.released)).toEqual(['1:0', 'gap 1:[1,2)', '1:2', 'gap 1:[3,4)', '1:4', '2:0', '2:1']);
    expect(r.state).toMatchObject({ ep: 2, next: 2 });
  });
  it('the new epoch forgets the old bitmap: seq numbers repeat across epochs', () => {
    const r = fold(cfg, [...seq(1, 0, 1), ...seq(3, 0, 1)]);
    expect(r.outcomes).toEqual(['accepted', 'accepted', 'accepted', 'accepted']);
  });
});

describe('purity and configuration', () => {
  it('never mutates the state it is given', () => {
    const s = fold(cfg, seq(1, 0, 3, 5)).state!;
    const copy = structuredClone(s);
    reorderStep(s, { ep: 1, sq: 1, ref: 'x' }, 500, cfg);
    reorderStep(s, { ep: 2, sq: 0, ref: 'x' }, 0, cfg);
    reorderTick(s, 10_000, cfg);
    reorderFlush(s, 0, cfg);
    expect(s).toEqual(copy);
  });
  it('state is plain JSON (for SQLite rows and Redis keys)', () => {
    const s = fold(cfg, [...seq(1, 0, 3), { ep: 1, sq: 4, group: { id: 1, part: 0, parts: 2 } }]).state!;
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });
  it('refuses bad configurations with FERRY_INGEST_CONFIG', () => {
    for (const bad of [
      { window: 0 },
      { window: 1.5 },
      { window: 70_000 },
      { timeoutMs: -1 },
      { timeoutMs: Number.NaN },
      { groupTimeoutMs: Infinity },
      { maxOpenGroups: 0 },
    ]) {
      expect(() => checkReorderConfig({ ...cfg, ...bad })).toThrow(IngestError);
      try {
        checkReorderConfig({ ...cfg, ...bad });
      } catch (e) {
        expect((e as IngestError).code).toBe('FERRY_INGEST_CONFIG');
      }
    }
  });
  it('window 1 means no re-ordering: every hole is a gap at once', () => {
    const r = fold({ ...cfg, window: 1 }, seq(1, 0, 2, 1, 3));
    expect(r.outcomes).toEqual(['accepted', 'accepted', 'replay', 'accepted']); // 1 < next(3) - W(1)
    expect(brief(r.released)).toEqual(['1:0', 'gap 1:[1,2)', '1:2', '1:3']);
  });
  it('a state written under another window size drops in-window repeats as late (still never released)', () => {
    const s = fold(cfg, seq(1, 0, 1, 2)).state!;
    const r = reorderStep(s, { ep: 1, sq: 2, ref: 'x' }, 0, { ...cfg, window: 64 });
    expect(r.outcome).toBe('late');
    expect(r.released).toEqual([]);
  });
});
