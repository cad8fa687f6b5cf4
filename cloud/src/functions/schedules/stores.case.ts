/**
 * @module The scheduler's storage conformance suite: the contract of stores.ts, run against
 * the Memory, SQLite and Redis stores by stores.test.ts. ScheduleStore round-trips schedules exactly;
 * LeaseStore grants exactly one claim per (schedule, period), under concurrent claims from several workers
 * on their own connections too, and none for a period older than one already claimed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LeaseStore, Schedule, ScheduleStore } from './stores.ts';

export interface StoreFixture {
  /**
   * The stores over the fixture's one backing. Each call is a new connection (another worker, or the same
   * worker after a restart); in-memory fixtures return the same objects.
   */
  open(): { schedules: ScheduleStore; leases: LeaseStore };
  /** Whether what was stored outlives the objects that stored it (a restart). */
  readonly persistent: boolean;
  close(): Promise<void>;
}

const schedule = (id: string, over: Partial<Schedule> = {}): Schedule => ({
  id,
  owner: 'alice',
  namespace: 'home',
  hash: 'ab'.repeat(32),
  export: 'incr',
  args: [1, '-9007199254740993', 2.5, ''],
  periodS: 60,
  writeTo: 'incr.last',
  startMs: 1_795_000_000_000,
  ...over,
});

const byId = (xs: readonly Schedule[]): Schedule[] => [...xs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

export function storeCases(name: string, make: () => Promise<StoreFixture>): void {
  describe(`schedule stores conformance: ${name}`, () => {
    const open: StoreFixture[] = [];
    const fixture = async (): Promise<StoreFixture> => {
      const f = await make();
      open.push(f);
      return f;
    };
    afterEach(async () => {
      for (const f of open.splice(0)) await f.close();
    });

    it('ScheduleStore: put, get, list, overwrite, delete; JSON-exact round trip, token kept only when present', async () => {
      const { schedules: s } = (await fixture()).open();
      expect(await s.list()).toEqual([]);
      const a = schedule('a-1');
      const b = schedule('b_2', { token: 'pub.token.x', namespace: 'garage', args: [], startMs: 5 });
      await s.put(a);
      await s.put(b);
      expect(await s.get('a-1')).toEqual(a);
      expect(Object.hasOwn((await s.get('a-1'))!, 'token')).toBe(false);
      expect(await s.get('b_2')).toEqual(b);
      expect(await s.get('nope')).toBeUndefined();
      expect(byId(await s.list())).toEqual([a, b]);
      const a2 = { ...a, writeTo: 'other.key' };
      await s.put(a2);
      expect(await s.get('a-1')).toEqual(a2);
      expect(await s.list()).toHaveLength(2);
      expect(await s.delete('a-1')).toBe(true);
      expect(await s.delete('a-1')).toBe(false);
      expect(await s.get('a-1')).toBeUndefined();
      expect(await s.list()).toEqual([b]);
    });

    it('ScheduleStore: a second connection sees the same schedules', async () => {
      const f = await fixture();
      const w1 = f.open().schedules;
      const w2 = f.open().schedules;
      await w1.put(schedule('shared'));
      expect(await w2.get('shared')).toEqual(schedule('shared'));
      expect(await w2.delete('shared')).toBe(true);
      expect(await w1.list()).toEqual([]);
    });

    it('LeaseStore: one claim per (schedule, period); schedules are independent; a newer period can be claimed', async () => {
      const { leases: l } = (await fixture()).open();
      expect(await l.claim('s', 0, 'w1')).toBe(true);
      expect(await l.claim('s', 0, 'w2')).toBe(false);
      expect(await l.claim('s', 0, 'w1')).toBe(false); // the winner itself does not win twice
      expect(await l.claim('t', 0, 'w2')).toBe(true);
      expect(await l.claim('s', 1, 'w2')).toBe(true);
      expect(await l.claim('s', 5, 'w3')).toBe(true);
      expect(await l.claim('s', 5, 'w1')).toBe(false);
    });

    it('LeaseStore: refuses a period older than one already claimed (a late worker must not run it)', async () => {
      const { leases: l } = (await fixture()).open();
      expect(await l.claim('s', 3, 'w1')).toBe(true);
      expect(await l.claim('s', 2, 'w2')).toBe(false);
      expect(await l.claim('s', 0, 'w2')).toBe(false);
      expect(await l.claim('s', 4, 'w2')).toBe(true);
    });

    it('LeaseStore: 50 concurrent claims from 5 workers on their own connections, per (schedule, period): exactly one wins', async () => {
      const f = await fixture();
      const workers = Array.from({ length: 5 }, (_, i) => ({ id: `w${i}`, leases: f.open().leases }));
      const wins = new Map<string, number>();
      for (let period = 0; period < 8; period++) {
        // 50 claims on each of two schedules, interleaved, every worker claiming both, all in flight at once.
        const claims = Array.from({ length: 100 }, (_, i) => {
          const w = workers[(i * 3 + period) % workers.length]!;
          const key = `s${i % 2}#${period}`;
          return w.leases.claim(`s${i % 2}`, period, w.id).then((won) => (won ? key : undefined));
        });
        for (const k of await Promise.all(claims)) if (k !== undefined) wins.set(k, (wins.get(k) ?? 0) + 1);
      }
      expect(wins.size).toBe(16);
      expect([...wins.values()].every((n) => n === 1)).toBe(true);
    });

    it('survives a restart: schedules and claimed periods are still there for a new connection', async (ctx) => {
      const f = await fixture();
      if (!f.persistent) ctx.skip('in-memory stores do not outlive the process: nothing to restart');
      const before = f.open();
      await before.schedules.put(schedule('kept'));
      expect(await before.leases.claim('kept', 7, 'old')).toBe(true);
      const after = f.open();
      expect(await after.schedules.list()).toEqual([schedule('kept')]);
      expect(await after.leases.claim('kept', 7, 'new')).toBe(false);
      expect(await after.leases.claim('kept', 8, 'new')).toBe(true);
    });
  });
}
