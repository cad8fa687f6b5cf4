/**
 * @module The CommandStore contract, run against SQLite and Redis from their own test files
 * (cloud/src/storage/sqlite/command-store.test.ts, cloud/src/storage/redis/command-store.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { answer, claim, enqueue, type Priority, type QueuePolicy } from './model.ts';
import type { CommandStore } from './store.ts';

const POLICY: QueuePolicy = { depth: 4, overflow: 'reject-new', visibilityMs: 1000, maxAttempts: 2 };
let n = 0;
const cmd = (device: string, priority: Priority = 'normal', at = 1000) => ({
  id: `c${++n}-${Math.random().toString(36).slice(2, 8)}`,
  device,
  cmd: { setpoint: 20 },
  priority,
  source: 'test',
  createdAt: at,
  expiresAt: at + 60_000,
});

export function commandStoreContract(name: string, make: () => CommandStore): void {
  describe(`CommandStore contract: ${name}`, () => {
    it('stores an enqueued command, finds it by id, and lists its device as due for a recheck', async () => {
      const s = make();
      const dev = `d${++n}`;
      const c = cmd(dev);
      await s.update(dev, (q) => enqueue(q, c, POLICY));
      expect((await s.get(c.id))?.state).toBe('queued');
      const recheck = c.createdAt + POLICY.visibilityMs;
      expect(await s.due(recheck - 1, 100)).not.toContain(dev);
      expect(await s.due(recheck, 100)).toContain(dev);
      await s.update(dev, (q) => answer(q, c.id, 'acked', undefined, recheck)); // a queued command takes no answer
      await s.update(dev, (q) => claim(q, recheck, 1, POLICY));
      expect(await s.due(recheck + POLICY.visibilityMs - 1, 100)).not.toContain(dev); // in flight: due at its visibility timeout
      expect(await s.due(recheck + POLICY.visibilityMs, 100)).toContain(dev);
      await s.update(dev, (q) => answer(q, c.id, 'acked', undefined, recheck + 1));
      expect(await s.due(Number.MAX_SAFE_INTEGER, 100)).not.toContain(dev); // empty: never due
    });

    it('claims in priority order with a growing (ep, sq), and keeps a finished command readable', async () => {
      const s = make();
      const dev = `d${++n}`;
      const low = cmd(dev, 'low');
      const high = cmd(dev, 'high');
      await s.update(dev, (q) => enqueue(q, low, POLICY));
      await s.update(dev, (q) => enqueue(q, high, POLICY));
      const first = (await s.update(dev, (q) => claim(q, 2000, 7, POLICY))).result;
      expect([first?.id, first?.ep, first?.sq]).toEqual([high.id, 7, 0]);
      expect((await s.update(dev, (q) => claim(q, 2000, 7, POLICY))).result).toBeUndefined(); // one in flight
      await s.update(dev, (q) => answer(q, high.id, 'acked', undefined, 2100));
      expect((await s.get(high.id))?.state).toBe('acked');
      const second = (await s.update(dev, (q) => claim(q, 2200, 5, POLICY))).result; // a worker of an older epoch
      expect([second?.id, second?.ep, second?.sq]).toEqual([low.id, 7, 1]);
      expect((await s.queue(dev)).live.map((r) => r.id)).toEqual([low.id]);
    });

    it('lets concurrent updates of one queue all land (none lost)', async () => {
      const s = make();
      const dev = `d${++n}`;
      const policy = { ...POLICY, depth: 100 };
      const cs = Array.from({ length: 20 }, () => cmd(dev));
      await Promise.all(cs.map((c) => s.update(dev, (q) => enqueue(q, c, policy))));
      const q = await s.queue(dev);
      expect(q.live.map((r) => r.id).sort()).toEqual(cs.map((c) => c.id).sort());
      expect(new Set(q.live.map((r) => r.seq)).size).toBe(20);
    });

    it("lists an owner's commands newest first, by device when asked, never another owner's; and their timeline", async () => {
      const s = make();
      const [d1, d2, other] = [`d${++n}`, `d${++n}`, `d${++n}`];
      const owner = `o${++n}`;
      const made = [cmd(d1, 'normal', 1000), cmd(d2, 'normal', 2000), cmd(d1, 'normal', 3000)].map((c) => ({ ...c, owner }));
      for (const c of made) await s.update(c.device, (q) => enqueue(q, c, POLICY));
      const theirs = { ...cmd(other, 'normal', 4000), owner: `o${++n}` };
      await s.update(other, (q) => enqueue(q, theirs, POLICY));
      expect(await s.recent(owner, 10)).toEqual([made[2]!.id, made[1]!.id, made[0]!.id]);
      expect(await s.recent(owner, 2)).toEqual([made[2]!.id, made[1]!.id]);
      expect(await s.recent(owner, 10, d1)).toEqual([made[2]!.id, made[0]!.id]);
      expect(await s.recent(owner, 10, other)).toEqual([]);
      expect((await s.recent(null, 100)).slice(0, 4)).toEqual([theirs.id, made[2]!.id, made[1]!.id, made[0]!.id]);
      // A finished command is still listed, with every state it went through.
      await s.update(d1, (q) => claim(q, 3500, 1, POLICY));
      await s.update(d1, (q) => answer(q, made[0]!.id, 'acked', undefined, 3600));
      expect(await s.recent(owner, 10, d1)).toEqual([made[2]!.id, made[0]!.id]);
      expect((await s.get(made[0]!.id))?.history).toEqual([
        { state: 'queued', at: 1000 },
        { state: 'sent', at: 3500 },
        { state: 'acked', at: 3600 },
      ]);
    });

    it('keeps broadcasts', async () => {
      const s = make();
      const b = { id: `b${++n}`, owner: 'o', createdAt: 1, target: { all: true }, commands: [{ device: 'x', id: 'y' }] };
      await s.putBroadcast(b);
      expect(await s.broadcast(b.id)).toEqual(b);
      expect(await s.broadcast('nope')).toBeUndefined();
      const later = { ...b, id: `b${++n}`, createdAt: 2 };
      const theirs = { ...b, id: `b${++n}`, owner: `o${++n}`, createdAt: 3 };
      await s.putBroadcast(later);
      await s.putBroadcast(theirs);
      expect((await s.broadcasts('o', 10)).map((x) => x.id).filter((id) => id === b.id || id === later.id)).toEqual([later.id, b.id]);
      expect((await s.broadcasts('o', 10)).some((x) => x.id === theirs.id)).toBe(false);
      expect((await s.broadcasts(null, 1000)).map((x) => x.id)).toContain(theirs.id);
    });
  });
}
