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

    it('keeps broadcasts', async () => {
      const s = make();
      const b = { id: `b${++n}`, owner: 'o', createdAt: 1, target: { all: true }, commands: [{ device: 'x', id: 'y' }] };
      await s.putBroadcast(b);
      expect(await s.broadcast(b.id)).toEqual(b);
      expect(await s.broadcast('nope')).toBeUndefined();
    });
  });
}
