/**
 * Two workers, one Redis: two RedisReorderStore instances on two connections (as two cloud processes would)
 * apply interleaved, partly redelivered messages of the same devices concurrently; then both tick and
 * flush at once. Every message is released exactly once and each device's releases tile its sequence in
 * order; every lost seq is reported as a gap exactly once (docs/storage.md "Atomicity").
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApplyResult, SourceRelease } from '../../ingest/ports.ts';
import type { ReorderConfig } from '../../ingest/reorder-types.ts';
import { startRedis } from '@ferry/test-kit/redis';
import { RedisReorderStore } from './reorder-store.ts';

const redis = await startRedis();
afterAll(async () => {
  if (redis.ok) await redis.stop();
});
if (!redis.ok)
  describe.skip(`Redis concurrency: skipped, ${redis.reason}`, () => {
    it('needs redis-server', () => {});
  });

type Ref = { kid: string; sq: number };
type Job = { kid: string; sq: number };

/** Runs `jobs` through `store` with up to `inFlight` calls outstanding, collecting every release. */
async function worker(
  store: RedisReorderStore<Ref>,
  jobs: readonly Job[],
  inFlight: number,
  now: number,
  out: Map<string, ApplyResult<Ref>['released'][]>,
  outcomes: string[],
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < jobs.length) {
      const j = jobs[next++]!;
      const r = await store.apply(j.kid, { ep: 7, sq: j.sq, ref: { kid: j.kid, sq: j.sq } }, now);
      outcomes.push(r.outcome);
      if (r.released.length > 0) out.set(j.kid, [...(out.get(j.kid) ?? []), r.released]);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
}

const collect = (out: Map<string, ApplyResult<Ref>['released'][]>, rs: readonly SourceRelease<Ref>[]): void => {
  for (const { kid, released } of rs) out.set(kid, [...(out.get(kid) ?? []), released]);
};

if (redis.ok) {
  describe('two RedisReorderStore workers on one Redis', () => {
    const devices = ['d0', 'd1', 'd2', 'd3'];
    const N = 250;

    it('release every message exactly once, in order per device, under interleaving and redelivery', async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer(), async (seed) => {
          const rnd = fc.sample(fc.integer({ min: 0, max: 999 }), { seed, numRuns: devices.length * N * 3 });
          let k = 0;
          const r = (): number => rnd[k++ % rnd.length]!;
          const cfg: Partial<ReorderConfig> = { window: 1024, timeoutMs: 1e9 };
          const prefix = redis.prefix();
          const [a, b] = [redis.connect(), redis.connect()];
          const A = new RedisReorderStore<Ref>({ redis: a, config: cfg, prefix });
          const B = new RedisReorderStore<Ref>({ redis: b, config: cfg, prefix });
          // Devices' messages interleaved, locally shuffled (swap with a neighbour), each sent to one worker;
          // 10% redelivered to the other worker as well (at-least-once transport).
          const all: Job[] = [];
          for (let sq = 0; sq < N; sq++) for (const kid of devices) all.push({ kid, sq });
          for (let i = 0; i + 1 < all.length; i++) if (r() < 300) [all[i], all[i + 1]] = [all[i + 1]!, all[i]!];
          const ja: Job[] = [];
          const jb: Job[] = [];
          let redelivered = 0;
          for (const j of all) {
            (r() < 500 ? ja : jb).push(j);
            if (r() < 100) {
              (r() < 500 ? ja : jb).push(j);
              redelivered++;
            }
          }
          const out = new Map<string, ApplyResult<Ref>['released'][]>();
          const outcomes: string[] = [];
          await Promise.all([worker(A, ja, 4, 1_000, out, outcomes), worker(B, jb, 4, 1_000, out, outcomes)]);
          expect(outcomes.filter((o) => o === 'accepted')).toHaveLength(devices.length * N);
          expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(redelivered);
          for (const kid of devices) {
            const runs = out.get(kid) ?? [];
            // Each call's release is a run of consecutive seqs; the runs tile 0..N-1 without overlap.
            const flat = runs.flatMap((run) => run.map((x) => (x.type === 'message' ? x.sq : -1)));
            expect(flat.filter((sq) => sq < 0)).toEqual([]); // no gaps, no groups
            expect([...flat].sort((x, y) => x - y)).toEqual(Array.from({ length: N }, (_, i) => i));
            for (const run of runs) {
              run.forEach((x, i) => {
                expect(x.type === 'message' && x.sq).toBe((run[0] as { sq: number }).sq + i);
              });
            }
            expect(runs.flatMap((run) => run.map((x) => x.type === 'message' && x.ref))).toEqual(flat.map((sq) => ({ kid, sq })));
          }
          expect(await A.flush(2_000)).toEqual([]);
          a.disconnect();
          b.disconnect();
        }),
        { numRuns: 5 },
      );
    });

    it('with losses: concurrent ticks and flushes by both workers release each message and each gap once', async () => {
      const cfg: Partial<ReorderConfig> = { window: 64, timeoutMs: 100 };
      const prefix = redis.prefix();
      const [a, b] = [redis.connect(), redis.connect()];
      const A = new RedisReorderStore<Ref>({ redis: a, config: cfg, prefix });
      const B = new RedisReorderStore<Ref>({ redis: b, config: cfg, prefix });
      const lost = (kid: string, sq: number): boolean => (sq * 7 + kid.charCodeAt(1)) % 13 === 0;
      const jobs = devices.flatMap((kid) => Array.from({ length: 40 }, (_, sq) => ({ kid, sq }))).filter((j) => !lost(j.kid, j.sq));
      const out = new Map<string, ApplyResult<Ref>['released'][]>();
      const outcomes: string[] = [];
      await Promise.all([
        worker(
          A,
          jobs.filter((_, i) => i % 2 === 0),
          3,
          0,
          out,
          outcomes,
        ),
        worker(
          B,
          jobs.filter((_, i) => i % 2 === 1),
          3,
          0,
          out,
          outcomes,
        ),
      ]);
      const ticks = await Promise.all([A.tick(100), B.tick(100), A.tick(100), B.flush(100), A.flush(100)]);
      for (const t of ticks) collect(out, t);
      for (const kid of devices) {
        const items = (out.get(kid) ?? []).flat();
        const msgs = items.flatMap((x) => (x.type === 'message' ? [x.sq] : []));
        const gaps = items.flatMap((x) => (x.type === 'gap' ? Array.from({ length: x.to - x.from }, (_, i) => x.from + i) : []));
        const sent = Array.from({ length: 40 }, (_, i) => i).filter((sq) => !lost(kid, sq));
        expect([...msgs].sort((x, y) => x - y)).toEqual(sent);
        // Losses after the last message of an epoch cannot be seen (docs/ingest.md), so compare below it.
        expect([...gaps].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i).filter((sq) => lost(kid, sq) && sq < sent[sent.length - 1]!));
      }
      a.disconnect();
      b.disconnect();
    });
  });
}
