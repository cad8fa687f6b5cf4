/**
 * Property-based tests (fast-check) of the whole pipeline over real signed tokens: several sources, several
 * epochs, any interleaving, permutation, duplication, loss and tampering of their messages.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ingest } from './pipeline.ts';
import type { IngestEvent } from './steps.ts';
import { FakeClock } from '@ferry/test-kit/clock';
import { keyOf, token } from '@ferry/test-kit/ingest';

const KIDS = ['s0', 's1', 's2'];
const cache = new Map<string, string>();
/** Tokens are made once per (kid, ep, sq) and reused across runs: signing is real, but not repeated. */
const tok = (kid: string, ep: number, sq: number): string => {
  const k = `${kid}/${ep}/${sq}`;
  let t = cache.get(k);
  if (t === undefined) {
    t = token(kid, ep, sq);
    cache.set(k, t);
  }
  return t;
};
const tamper = (t: string, at: number): string => {
  const i = at % t.length;
  const c = t[i] === 'A' ? 'B' : t[i] === '.' ? 'x' : 'A';
  return t.slice(0, i) + c + t.slice(i + 1);
};

/** One source's history: epochs (increasing numbers), each a count of messages, some of them lost. */
const epochArb = fc.record({ step: fc.integer({ min: 1, max: 3 }), n: fc.integer({ min: 1, max: 12 }), lost: fc.array(fc.nat(11), { maxLength: 3 }) });
const sourceArb = fc.array(epochArb, { minLength: 1, maxLength: 3 });
type Sent = { kid: string; ep: number; sq: number };

function history(kid: string, epochs: readonly { step: number; n: number; lost: number[] }[]): { sent: Sent[][]; lost: Set<string> } {
  let ep = 0;
  const sent: Sent[][] = [];
  const lost = new Set<string>();
  for (const e of epochs) {
    ep += e.step;
    const msgs: Sent[] = [];
    for (let sq = 0; sq < e.n; sq++) {
      if (e.lost.includes(sq)) lost.add(`${kid}/${ep}/${sq}`);
      else msgs.push({ kid, ep, sq });
    }
    sent.push(msgs);
  }
  return { sent, lost };
}

/** Merges per-source lists in an arbitrary interleaving that keeps each source's own order. */
function interleave<T>(lists: T[][], picks: readonly number[]): T[] {
  const out: T[] = [];
  const rest = lists.map((l) => [...l]);
  for (let i = 0; rest.some((l) => l.length > 0); i++) {
    const live = rest.filter((l) => l.length > 0);
    out.push(live[(picks[i % Math.max(1, picks.length)] ?? 0) % live.length]!.shift()!);
  }
  return out;
}

/** Orders arrivals by random keys; duplicates are extra copies with their own keys. */
function shuffleWithDups(msgs: readonly Sent[], keys: readonly number[], dups: readonly number[]): Sent[] {
  const copies: { m: Sent; k: number }[] = [];
  msgs.forEach((m, i) => {
    copies.push({ m, k: keys[i % Math.max(1, keys.length)] ?? i });
    for (let d = 0; d < (dups[i % Math.max(1, dups.length)] ?? 0) % 3; d++) copies.push({ m, k: (keys[(i + d + 1) % Math.max(1, keys.length)] ?? 0) + d });
  });
  return copies.sort((a, b) => a.k - b.k).map((c) => c.m);
}

function run(ing: Ingest, arrivals: readonly { t: string; dt: number; tick: boolean }[], clock: FakeClock): IngestEvent[] {
  const events: IngestEvent[] = [];
  ing.subscribe((e) => {
    events.push(e);
  });
  for (const a of arrivals) {
    clock.advance(a.dt);
    ing.ingest(a.t);
    if (a.tick) ing.tick();
  }
  ing.flush();
  return events;
}

/** Per source, the released items in order; checks they tile each epoch's [0, end) with no overlap or hole. */
function checkTiling(events: readonly IngestEvent[]): { released: Map<string, string[]>; gaps: Set<string> } {
  const released = new Map<string, string[]>();
  const gaps = new Set<string>();
  const pos = new Map<string, { ep: number; next: number }>();
  for (const e of events) {
    if (e.type === 'group') throw new Error('no groups in this test');
    const p = pos.get(e.kid);
    const from = e.type === 'gap' ? e.from : e.sq;
    const to = e.type === 'gap' ? e.to : e.sq + 1;
    if (p !== undefined && p.ep === e.ep)
      expect(from).toBe(p.next); // contiguous within an epoch
    else {
      if (p !== undefined) expect(e.ep).toBeGreaterThan(p.ep); // epochs only increase
      expect(from).toBe(0); // every epoch starts at 0
    }
    expect(to).toBeGreaterThan(from);
    pos.set(e.kid, { ep: e.ep, next: to });
    if (e.type === 'gap') for (let s = e.from; s < e.to; s++) gaps.add(`${e.kid}/${e.ep}/${s}`);
    else released.set(e.kid, [...(released.get(e.kid) ?? []), `${e.kid}/${e.ep}/${e.sq}`]);
  }
  return { released, gaps };
}

const sourcesArb = fc.tuple(...KIDS.map(() => sourceArb));
const perSource = <T>(a: fc.Arbitrary<T>) => fc.tuple(...KIDS.map(() => a));

describe('pipeline properties', () => {
  it('epoch-ordered delivery, any permutation and duplication within an epoch: every message released exactly once, in order; gaps exactly for the lost ones', () => {
    fc.assert(
      fc.property(
        sourcesArb,
        perSource(fc.array(fc.integer(), { maxLength: 40 })),
        perSource(fc.array(fc.nat(), { maxLength: 40 })),
        fc.array(fc.nat(), { maxLength: 50 }),
        (srcs, keys, dups, picks) => {
          const hs = srcs.map((s, i) => history(KIDS[i]!, s));
          // Within each epoch any order, duplicates included; a source's epochs arrive one after the other.
          const perKid = hs.map((h, i) => h.sent.flatMap((msgs) => shuffleWithDups(msgs, keys[i]!, dups[i]!)));
          const arrivals = interleave(perKid, picks).map((m) => ({ t: tok(m.kid, m.ep, m.sq), dt: 0, tick: false }));
          const clock = new FakeClock(0);
          const ing = new Ingest({ keys: keyOf, clock, reorderConfig: { window: 16, timeoutMs: 1_000 } });
          const events = run(ing, arrivals, clock);
          const { released, gaps } = checkTiling(events);
          hs.forEach((h, i) => {
            const kid = KIDS[i]!;
            expect(released.get(kid) ?? []).toEqual(h.sent.flat().map((m) => `${m.kid}/${m.ep}/${m.sq}`)); // once each, in (ep, sq) order
            // Lost messages are gaps when a later message of their epoch arrived; trailing losses are invisible.
            const expectGaps = [...h.lost].filter((k) => {
              const [, ep, sq] = k.split('/').map(Number) as [number, number, number];
              return h.sent.flat().some((m) => m.ep === ep && m.sq > sq);
            });
            expect([...gaps].filter((g) => g.startsWith(`${kid}/`)).sort()).toEqual(expectGaps.sort());
          });
          const c = ing.counters();
          const distinct = hs.reduce((n, h) => n + h.sent.flat().length, 0);
          expect(c.accepted).toBe(distinct);
          expect(c.released).toBe(distinct);
          expect(c.duplicate + c.late + c.replay).toBe(arrivals.length - distinct);
          expect(c.replay).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('any order, time passing, small windows, tampering: never released twice, always in order, tampered tokens change nothing', () => {
    const arrivalArb = fc.record({
      kid: fc.nat(KIDS.length - 1),
      ep: fc.integer({ min: 1, max: 3 }),
      sq: fc.nat(15),
      dt: fc.nat(60),
      tick: fc.boolean(),
      tamperAt: fc.option(fc.nat(), { freq: 4, nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(arrivalArb, { maxLength: 80 }), fc.integer({ min: 1, max: 8 }), (arr, window) => {
        const cfg = { window, timeoutMs: 100 };
        const withTamper = arr.map((a) => ({
          t: a.tamperAt === undefined ? tok(KIDS[a.kid]!, a.ep, a.sq) : tamper(tok(KIDS[a.kid]!, a.ep, a.sq), a.tamperAt),
          dt: a.dt,
          tick: a.tick,
        }));
        const c1 = new FakeClock(0);
        const i1 = new Ingest({ keys: keyOf, clock: c1, reorderConfig: cfg });
        const { released } = checkTiling(run(i1, withTamper, c1));
        for (const list of released.values()) expect(new Set(list).size).toBe(list.length); // never twice
        const n = i1.counters();
        const tampered = arr.filter((a) => a.tamperAt !== undefined).length;
        expect(n.rejected).toBe(tampered);
        expect(n.accepted).toBe(n.released); // after flush every accepted message is out, exactly once
        expect(n.accepted + n.duplicate + n.late + n.replay).toBe(arr.length - tampered);
        // The same run without the tampered tokens (the tampered arrivals become no-ops) releases the same.
        const c2 = new FakeClock(0);
        const i2 = new Ingest({ keys: keyOf, clock: c2, reorderConfig: cfg });
        const dropped = withTamper.map((a, i) => (arr[i]!.tamperAt === undefined ? a : { ...a, t: '' }));
        const r2 = checkTiling(run(i2, dropped, c2));
        expect(r2.released).toEqual(released);
        // Replaying every released message afterwards releases nothing more.
        const before = i1.counters().released;
        for (const k of [...released.values()].flat()) {
          const [kid, ep, sq] = k.split('/') as [string, string, string];
          expect(i1.ingest(tok(kid, Number(ep), Number(sq)))).not.toMatchObject({ status: 'accepted' });
        }
        i1.flush();
        expect(i1.counters().released).toBe(before);
      }),
      { numRuns: 300 },
    );
  });
});
