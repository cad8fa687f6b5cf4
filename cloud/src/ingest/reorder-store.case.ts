/**
 * @module The ReorderStore conformance suite (after MQTT.js' abstract_store): every store
 * (in-memory now; SQLite and Redis later) must behave exactly as the pure reorderStep on each source.
 * Call `reorderStoreCases(name, make)` from the store's own test file.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MaybePromise, ReorderStore, SourceRelease } from './ports.ts';
import { reorderFlush, reorderStep, reorderTick } from './reorder.ts';
import type { Released, ReorderConfig, ReorderState, SeqOutcome } from './reorder-types.ts';

const cfg: ReorderConfig = { window: 8, timeoutMs: 50, groupTimeoutMs: 200, maxOpenGroups: 2 };

type Op = { op: 'msg'; kid: string; ep: number; sq: number; part?: number | undefined } | { op: 'tick'; dt: number } | { op: 'flush' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      op: fc.constant('msg' as const),
      kid: fc.constantFrom('a', 'b', 'c'),
      ep: fc.integer({ min: 0, max: 2 }),
      sq: fc.integer({ min: 0, max: 20 }),
      part: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('tick' as const), dt: fc.integer({ min: 0, max: 120 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'flush' as const }) },
);

/** The reference: the pure functions folded over a Map of states. */
class Model {
  readonly states = new Map<string, ReorderState<string>>();
  apply(kid: string, ep: number, sq: number, part: number | undefined, now: number): { outcome: SeqOutcome; released: readonly Released<string>[] } {
    const r = reorderStep(
      this.states.get(kid),
      { ep, sq, group: part === undefined ? undefined : { id: 1, part, parts: 3 }, ref: `${kid}/${ep}/${sq}` },
      now,
      cfg,
    );
    this.states.set(kid, r.state);
    return r;
  }
  each(f: typeof reorderTick<string>, now: number): SourceRelease<string>[] {
    const out: SourceRelease<string>[] = [];
    for (const kid of [...this.states.keys()].sort()) {
      const r = f(this.states.get(kid)!, now, cfg);
      this.states.set(kid, r.state);
      if (r.released.length > 0) out.push({ kid, released: r.released });
    }
    return out;
  }
}

/**
 * The store as a taker that stores at once sees it: every outbox entry confirmed right after the call, and
 * the outbox fields left out, so a store with an outbox compares equal to the pure functions.
 */
export function confirming<R>(s: ReorderStore<R>): ReorderStore<R> {
  const done = async (kid: string, outbox: readonly number[] | undefined): Promise<void> => {
    if (outbox !== undefined && s.confirm !== undefined) await s.confirm(kid, outbox);
  };
  const each = async (got: readonly SourceRelease<R>[]): Promise<SourceRelease<R>[]> => {
    for (const r of got) await done(r.kid, r.outbox);
    return got.map(({ kid, released }) => ({ kid, released }));
  };
  return {
    config: s.config,
    async apply(kid, msg, now) {
      const r = await s.apply(kid, msg, now);
      await done(kid, r.outbox);
      return { outcome: r.outcome, released: r.released };
    },
    tick: async (now) => each(await s.tick(now)),
    flush: async (now) => each(await s.flush(now)),
    forget: async (kid, now) => each(await s.forget(kid, now)),
  };
}

export function reorderStoreCases(name: string, makeStore: (cfg: ReorderConfig) => MaybePromise<ReorderStore<string>>): void {
  const make = async (c: ReorderConfig): Promise<ReorderStore<string>> => confirming(await makeStore(c));
  describe(`ReorderStore conformance: ${name}`, () => {
    it('exposes the configuration it runs', async () => {
      expect((await make(cfg)).config).toEqual(cfg);
    });

    it('forget releases what a source buffered, then starts it afresh (an operator reset); other sources keep theirs', async () => {
      const s = await make(cfg);
      await s.apply('a', { ep: 5, sq: 0, ref: 'a0' }, 0);
      await s.apply('a', { ep: 5, sq: 2, ref: 'a2' }, 0); // waits for 1
      await s.apply('b', { ep: 1, sq: 1, ref: 'b1' }, 0); // waits for 0
      const out = await s.forget('a', 1);
      expect(out.map((r) => [r.kid, r.released.map((x) => (x.type === 'message' ? `m${x.sq}` : x.type === 'gap' ? `g${x.from}-${x.to}` : x.type))])).toEqual([
        ['a', ['g1-2', 'm2']],
      ]);
      // The board lost its boot counter: epoch 1 again. Before the reset that was 'late' for ever.
      expect((await s.apply('a', { ep: 1, sq: 0, ref: 'x' }, 2)).outcome).toBe('accepted');
      expect(await s.forget('nobody', 3)).toEqual([]);
      const b = await s.flush(4);
      expect(b.map((r) => r.kid)).toEqual(['b']);
    });

    it('an implausible leap forward is a jump: not applied, the next honest message is accepted', async () => {
      const s = await make(cfg);
      await s.apply('g', { ep: 3, sq: 0, ref: 'g0' }, 0);
      expect((await s.apply('g', { ep: 3, sq: 0xffff_ffff, ref: 'glitch' }, 0)).outcome).toBe('jump');
      expect((await s.apply('g', { ep: 2 ** 31, sq: 0, ref: 'glitch' }, 0)).outcome).toBe('jump');
      const next = await s.apply('g', { ep: 3, sq: 1, ref: 'g1' }, 0);
      expect(next.outcome).toBe('accepted');
      expect(next.released.map((x) => x.type === 'message' && x.sq)).toEqual([1]);
      // A source first seen anywhere is not a jump (a device registered mid-epoch).
      expect((await s.apply('fresh', { ep: 1, sq: 10_000_000, ref: 'f' }, 0)).outcome).toBe('accepted');
    });
    it('releases per source in order, sources independent', async () => {
      const s = await make(cfg);
      const a1 = await s.apply('a', { ep: 1, sq: 1, ref: 'a1' }, 0);
      const b0 = await s.apply('b', { ep: 1, sq: 0, ref: 'b0' }, 0);
      const a0 = await s.apply('a', { ep: 1, sq: 0, ref: 'a0' }, 0);
      expect([a1.outcome, b0.outcome, a0.outcome]).toEqual(['accepted', 'accepted', 'accepted']);
      expect(a1.released).toEqual([]);
      expect(b0.released.map((r) => r.type === 'message' && r.ref)).toEqual(['b0']);
      expect(a0.released.map((r) => r.type === 'message' && r.ref)).toEqual(['a0', 'a1']);
    });
    it('tick releases timed-out gaps; flush releases all; idle sources release nothing', async () => {
      const s = await make(cfg);
      await s.apply('a', { ep: 1, sq: 2, ref: 'a2' }, 0);
      await s.apply('b', { ep: 1, sq: 0, ref: 'b0' }, 0);
      expect(await s.tick(49)).toEqual([]);
      const t = await s.tick(50);
      expect(t.map((x) => x.kid)).toEqual(['a']);
      expect(t[0]!.released.map((r) => r.type)).toEqual(['gap', 'message']);
      await s.apply('c', { ep: 1, sq: 5, ref: 'c5' }, 60);
      const f = await s.flush(61);
      expect(f.map((x) => x.kid)).toEqual(['c']);
    });
    it('matches the pure reorderStep on any sequence of messages, ticks and flushes', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { maxLength: 60 }), async (ops) => {
          const s = await make(cfg);
          const model = new Model();
          let now = 0;
          for (const o of ops) {
            if (o.op === 'tick') {
              now += o.dt;
              expect(await s.tick(now)).toEqual(model.each(reorderTick, now));
            } else if (o.op === 'flush') {
              expect(await s.flush(now)).toEqual(model.each(reorderFlush, now));
            } else {
              const got = await s.apply(
                o.kid,
                { ep: o.ep, sq: o.sq, group: o.part === undefined ? undefined : { id: 1, part: o.part, parts: 3 }, ref: `${o.kid}/${o.ep}/${o.sq}` },
                now,
              );
              const want = model.apply(o.kid, o.ep, o.sq, o.part, now);
              expect(got.outcome).toBe(want.outcome);
              expect(got.released).toEqual(want.released);
            }
          }
        }),
        { numRuns: 300 },
      );
    });
  });
}
