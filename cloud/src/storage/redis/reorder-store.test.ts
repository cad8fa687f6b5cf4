/**
 * reorder.lua on a real Redis: the ReorderStore conformance suite (the proof that the Lua port equals the
 * TS semantics), a differential property test over wider configurations (word boundaries of the bitmap,
 * bit 31, zero timeouts, JSON refs with unicode), the due index, and errors. Redis: see @ferry/test-kit/redis.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { confirming, reorderStoreCases } from '../../ingest/reorder-store.case.ts';
import { reorderFlush, reorderStep, reorderTick } from '../../ingest/reorder.ts';
import type { Released, ReorderConfig, ReorderState } from '../../ingest/reorder-types.ts';
import type { Message } from '@ferry/message';
import { Ingest } from '../../ingest/pipeline.ts';
import type { Arrival } from '../../ingest/ports.ts';
import { arrivalCodec } from '../ref-codec.ts';
import { keyOf, token } from '@ferry/test-kit/ingest';
import { startRedis } from '@ferry/test-kit/redis';
import { RedisTimeSeries } from './time-series.ts';
import { RedisReorderStore } from './reorder-store.ts';

const redis = await startRedis();
afterAll(async () => {
  if (redis.ok) await redis.stop();
});
if (!redis.ok)
  describe.skip(`Redis ReorderStore: skipped, ${redis.reason}`, () => {
    it('needs redis-server', () => {});
  });

if (redis.ok) {
  const client = redis.connect();
  const make = <R>(config: Partial<ReorderConfig>, prefix = redis.prefix(), leaseMs?: number): RedisReorderStore<R> =>
    new RedisReorderStore<R>({ redis: client, config, prefix, ...(leaseMs !== undefined && { leaseMs }) });

  reorderStoreCases('redis (reorder.lua)', (config) => make<string>(config));

  describe('reorder.lua differential: random sequences give the same outcomes and releases as reorderStep', () => {
    type Ref = { kid: string; sq: number; note: string; n: number[] };
    const cfgArb = fc.record({
      window: fc.constantFrom(1, 2, 31, 32, 33, 40, 64),
      timeoutMs: fc.constantFrom(0, 5, 30),
      groupTimeoutMs: fc.constantFrom(0, 10, 100),
      maxOpenGroups: fc.constantFrom(1, 3),
    });
    const opArb = fc.oneof(
      {
        weight: 10,
        arbitrary: fc.record({
          op: fc.constant('msg' as const),
          kid: fc.constantFrom('d1', 'd2'),
          ep: fc.integer({ min: 0, max: 2 }),
          sq: fc.integer({ min: 0, max: 140 }),
          grp: fc.option(fc.record({ id: fc.integer({ min: 0, max: 3 }), part: fc.integer({ min: 0, max: 3 }), parts: fc.integer({ min: 1, max: 4 }) }), {
            nil: undefined,
          }),
          dt: fc.integer({ min: 0, max: 12 }),
        }),
      },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('tick' as const), dt: fc.integer({ min: 0, max: 60 }) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('flush' as const), dt: fc.constant(0) }) },
    );
    it('over configurations, epochs, groups, bitmap word boundaries and unicode JSON refs', async () => {
      await fc.assert(
        fc.asyncProperty(
          cfgArb,
          fc.array(opArb, { maxLength: 80 }),
          fc.integer({ min: 0, max: 1_767_225_600_000 }),
          fc.constantFrom(0, 4_294_967_295 - 150),
          async (cfg, ops, t0, base) => {
            const raw = make<Ref>(cfg);
            const s = confirming(raw);
            const states = new Map<string, ReorderState<Ref>>();
            const each = (f: typeof reorderTick<Ref>, now: number) => {
              const out: { kid: string; released: readonly Released<Ref>[] }[] = [];
              for (const kid of [...states.keys()].sort()) {
                const r = f(states.get(kid)!, now, cfg);
                states.set(kid, r.state);
                if (r.released.length > 0) out.push({ kid, released: r.released });
              }
              return out;
            };
            let now = t0;
            for (const o of ops) {
              now += o.dt;
              if (o.op === 'tick') expect(await s.tick(now)).toEqual(each(reorderTick, now));
              else if (o.op === 'flush') expect(await s.flush(now)).toEqual(each(reorderFlush, now));
              else {
                // `base` puts ep, sq and group ids next to the uint32 limit of the message format.
                const grp = o.grp === undefined ? undefined : { id: base + o.grp.id, parts: o.grp.parts, part: o.grp.part % o.grp.parts };
                const [ep, sq] = [base + o.ep, base + o.sq];
                const ref: Ref = { kid: o.kid, sq, note: 'ü€😀/"\\{}', n: [1.5, -0.25, 1e21] };
                const want = reorderStep(states.get(o.kid), { ep, sq, group: grp, ref }, now, cfg);
                states.set(o.kid, want.state);
                const got = await s.apply(o.kid, { ep, sq, group: grp, ref }, now);
                expect(got).toEqual({ outcome: want.outcome, released: want.released });
              }
            }
            // The stored state equals the TS state too (bitmap words included), not only what was released.
            for (const [kid, want] of states) expect(await raw.state(kid)).toEqual({ ...want, v: expect.any(Number) as number });
          },
        ),
        { numRuns: Number(process.env['FERRY_FC_RUNS'] ?? 150) },
      );
    });
  });

  describe('RedisReorderStore', () => {
    it('keeps one hash-tagged key per device and indexes only sources with something waiting', async () => {
      const prefix = redis.prefix();
      const s = make<string>({ window: 8, timeoutMs: 50 }, prefix, 0); // outbox off: only buffered messages are due
      expect(s.stateKey('dev-1')).toBe(`${prefix}{dev-1}:reorder`);
      await s.apply('dev-1', { ep: 1, sq: 0, ref: 'x' }, 0);
      const [index, ver] = s.dueKeys();
      await s.settled();
      expect(await client.zrange(index, 0, -1)).toEqual([]);
      await s.apply('dev-1', { ep: 1, sq: 2, ref: 'y' }, 10);
      await s.settled();
      expect(await client.zrange(index, 0, -1, 'WITHSCORES')).toEqual(['dev-1', '60']);
      expect(await client.hget(ver, 'dev-1')).toBe('2');
      expect(await s.tick(59)).toEqual([]);
      expect(await s.tick(60)).toHaveLength(1);
      expect(await client.zcard(index)).toBe(0);
      expect(await client.hlen(ver)).toBe(0);
    });
    it('a stale index entry costs one visit and is removed; an older update never overwrites a newer one', async () => {
      const s = make<string>({ window: 8, timeoutMs: 50 }, undefined, 0);
      const [index, ver] = s.dueKeys();
      await s.apply('a', { ep: 1, sq: 0, ref: 'a0' }, 0);
      await s.settled();
      await client.zadd(index, 0, 'a'); // as if a delayed update from an older state had landed
      expect(await s.tick(100)).toEqual([]);
      expect(await client.zcard(index)).toBe(0);
      await s.apply('b', { ep: 1, sq: 3, ref: 'b3' }, 0); // v1, deadline 50
      await s.settled();
      await client.hset(ver, 'b', 5); // a newer write's counter already recorded
      await s.apply('b', { ep: 1, sq: 5, ref: 'b5' }, 10);
      await s.settled();
      expect(await client.zscore(index, 'b')).toBe('50');
    });
    it('reindex() rebuilds a lost due index from the states (a worker died between the two calls)', async () => {
      const s = make<string>({ window: 8, timeoutMs: 50 }, undefined, 0);
      const [index, ver] = s.dueKeys();
      await s.apply('x}y', { ep: 1, sq: 3, ref: 'x3' }, 10); // a kid with a brace keeps its own key
      await s.apply('z', { ep: 1, sq: 0, ref: 'z0' }, 10);
      await s.settled();
      await client.del(index, ver); // as if both index updates had been lost
      expect(await s.tick(100)).toEqual([]);
      expect(await s.reindex()).toBe(2);
      expect(await client.zrange(index, 0, -1, 'WITHSCORES')).toEqual(['x}y', '60']);
      expect(await s.tick(100)).toMatchObject([{ kid: 'x}y', released: [{ type: 'gap' }, { type: 'message', ref: 'x3' }] }]);
    });
    it('a failed index update does not fail apply (the step is committed); it is reported, and reindex repairs it', async () => {
      const prefix = redis.prefix();
      const errors: unknown[] = [];
      const s = new RedisReorderStore<string>({ redis: client, config: { window: 8, timeoutMs: 50 }, prefix, leaseMs: 0, onIndexError: (e) => errors.push(e) });
      const [index] = s.dueKeys();
      await client.set(index, 'not a sorted set'); // ZADD on it answers WRONGTYPE
      expect(await s.apply('a', { ep: 1, sq: 1, ref: 'a1' }, 0)).toEqual({ outcome: 'accepted', released: [] });
      await s.settled();
      expect(errors).toMatchObject([{ code: 'FERRY_STORE_SCRIPT' }]);
      await client.del(index);
      expect(await s.reindex()).toBe(1);
      expect(await s.tick(50)).toMatchObject([{ kid: 'a', released: [{ type: 'gap' }, { type: 'message', ref: 'a1' }] }]);
    });
    it('outbox: a release nobody confirms (its taker was killed) is released again after the lease, first, and then confirmed', async () => {
      const s = make<string>({ window: 8, timeoutMs: 50 }, undefined, 100);
      const a0 = await s.apply('a', { ep: 1, sq: 0, ref: 'a0' }, 0);
      expect(a0).toMatchObject({ outcome: 'accepted', released: [{ ref: 'a0' }], recovered: 0 });
      expect(a0.outbox).toHaveLength(1);
      // The taker "dies" here: a0 is never confirmed. Before the lease ends, other traffic does not repeat it.
      const a1 = await s.apply('a', { ep: 1, sq: 1, ref: 'a1' }, 50);
      expect(a1.released.map((r) => r.type === 'message' && r.ref)).toEqual(['a1']);
      await s.confirm('a', a1.outbox!);
      // The lease ends at 100: a tick (the source is silent) releases a0 again, leased anew until 250.
      expect(await s.tick(99)).toEqual([]);
      const t = await s.tick(150);
      expect(t).toMatchObject([{ kid: 'a', released: [{ type: 'message', ref: 'a0', sq: 0 }], recovered: 1 }]);
      // Its second taker dies too; the next message on the source takes it, before its own release.
      const a2 = await s.apply('a', { ep: 1, sq: 2, ref: 'a2' }, 260);
      expect(a2.released.map((r) => r.type === 'message' && r.ref)).toEqual(['a0', 'a2']);
      expect(a2.recovered).toBe(1);
      await s.confirm('a', a2.outbox!);
      expect(await s.tick(10_000)).toEqual([]);
      await s.settled();
      expect(await client.zcard(s.dueKeys()[0])).toBe(0); // nothing left to visit
      // Redelivery of a stored message is a duplicate; nothing is released twice once confirmed.
      expect(await s.apply('a', { ep: 1, sq: 0, ref: 'a0' }, 10_001)).toEqual({ outcome: 'duplicate', released: [] });
    });
    it('outbox: with the idempotent series, a taker killed before, between or after its appends stores each point once', async () => {
      const prefix = redis.prefix();
      const series = new RedisTimeSeries({ redis: client, prefix });
      const s = make<Arrival>({ window: 8, timeoutMs: 50 }, prefix, 100);
      const t0 = 1_767_225_600_000;
      const ing = new Ingest({ keys: keyOf, reorder: s, series, clock: { now: () => t0 } });
      // A "dead" taker: takes releases from the store but never stores them.
      for (let sq = 0; sq < 3; sq++)
        await s.apply(
          'dev-1',
          {
            ep: 1,
            sq,
            ref: {
              message: {
                header: { alg: 'HS256', typ: 'JWT', kid: 'dev-1', ep: 1, sq },
                claims: { iss: 'dev-1', iat: 1, ev: 'tel', d: { sq } },
              } as unknown as Message,
            },
          },
          t0,
        );
      // A taker killed after storing sq 0 but before confirming.
      await series.append('dev-1/tel', { ts: t0, kid: 'dev-1', ep: 1, sq: 0, value: { sq: 0 } });
      expect(await ing.tick(t0 + 99)).toBe(0);
      expect(await ing.tick(t0 + 100)).toBe(3);
      expect(ing.counters().recovered).toBe(3);
      const stored = await series.query('dev-1/tel', 0, Infinity);
      expect(stored.map((p) => p.sq)).toEqual([0, 1, 2]);
      // The living taker confirmed (tick waits for confirmations in flight): nothing more comes back.
      expect(await ing.tick(t0 + 1000)).toBe(0);
      expect((await series.query('dev-1/tel', 0, Infinity)).length).toBe(3);
      // And the pipeline still stores in-order traffic once, confirming it.
      expect(await ing.ingest(token('dev-1', 1, 3), t0 + 1001)).toMatchObject({ status: 'accepted', released: 1 });
      expect(await ing.tick(t0 + 5000)).toBe(0);
    });
    it('outbox: bounded per source; entries beyond the bound are dropped and counted', async () => {
      const s = make<string>({ window: 8, timeoutMs: 50 }, undefined, 1_000_000);
      for (let sq = 0; sq < 260; sq++) await s.apply('a', { ep: 1, sq, ref: `a${sq}` }, sq);
      expect(s.dropped).toBe(4);
    });
    it('falls back to EVAL after SCRIPT FLUSH (NOSCRIPT) and refuses bad options and non-JSON refs', async () => {
      const s = make<string>({ window: 4 });
      await client.script('FLUSH');
      expect(await s.apply('a', { ep: 0, sq: 0, ref: 'x' }, 0)).toMatchObject({ outcome: 'accepted' });
      expect(() => new RedisReorderStore({ redis: client, prefix: 'x{' })).toThrow(expect.objectContaining({ code: 'FERRY_STORE_CONFIG' }));
      expect(() => new RedisReorderStore({ redis: client, config: { window: 0 } })).toThrow(expect.objectContaining({ code: 'FERRY_STORE_CONFIG' }));
      await expect(make<unknown>({}).apply('a', { ep: 0, sq: 0, ref: undefined }, 0)).rejects.toMatchObject({ code: 'FERRY_STORE_REF' });
      await expect(s.apply('a', { ep: 0, sq: 1, ref: 'x' }, 1.25)).rejects.toMatchObject({ code: 'FERRY_STORE_RANGE', num: 4610 });
      await expect(s.tick(-1)).rejects.toMatchObject({ code: 'FERRY_STORE_RANGE' });
    });
    it('reports a corrupt state as FERRY_STORE_SCRIPT and a closed connection as FERRY_STORE_UNAVAILABLE', async () => {
      const s = make<string>({});
      await client.set(s.stateKey('bad'), '{not json');
      await expect(s.apply('bad', { ep: 0, sq: 0, ref: 'x' }, 0)).rejects.toMatchObject({ code: 'FERRY_STORE_SCRIPT', num: 4606 });
      const c2 = redis.connect();
      const s2 = new RedisReorderStore<string>({ redis: c2, prefix: redis.prefix() });
      c2.disconnect();
      await expect(s2.apply('a', { ep: 0, sq: 0, ref: 'x' }, 0)).rejects.toMatchObject({ code: 'FERRY_STORE_UNAVAILABLE', num: 4607 });
    });
  });

  describe('the ingest pipeline over Redis', () => {
    it('Message refs round-trip; a restarted worker (new store, same keys) refuses replays; groups assemble across workers', async () => {
      const prefix = redis.prefix();
      const make = (): Ingest =>
        new Ingest({
          keys: keyOf,
          reorder: new RedisReorderStore<Arrival>({ redis: client, prefix, codec: arrivalCodec() }),
          series: new RedisTimeSeries({ redis: client, prefix }),
          clock: { now: () => 5_000 },
        });
      const w1 = make();
      const events: unknown[] = [];
      w1.subscribe((e) => {
        events.push(e);
      });
      const t1 = token('dev9', 2, 1, undefined, { t: 21.5, s: 'ü' });
      expect(await w1.ingest(t1)).toMatchObject({ status: 'accepted', released: 0 });
      expect(await w1.ingest(token('dev9', 2, 0))).toMatchObject({ status: 'accepted', released: 2 });
      expect(events).toMatchObject([
        { type: 'message', sq: 0 },
        { type: 'message', sq: 1, message: { header: { kid: 'dev9', ep: 2, sq: 1 }, claims: { d: { t: 21.5, s: 'ü' } } } },
      ]);
      const w2 = make();
      expect(await w2.ingest(t1)).toMatchObject({ status: 'duplicate' });
      expect(await w2.ingest(token('dev9', 2, 2, { id: 4, part: 1, parts: 2 }))).toMatchObject({ status: 'accepted' });
      expect(await w1.ingest(token('dev9', 2, 3, { id: 4, part: 0, parts: 2 }))).toMatchObject({ status: 'accepted', released: 1 });
      expect(await w2.series.query('dev9/tel', 0, Infinity)).toMatchObject([
        { sq: 0 },
        { sq: 1, value: { t: 21.5, s: 'ü' } },
        { sq: 3, value: { group: 4, missing: [], values: [{ sq: 3 }, { sq: 2 }] } },
      ]);
    });
  });
}
