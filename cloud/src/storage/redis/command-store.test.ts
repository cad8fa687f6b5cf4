/** The command store on Redis: the CommandStore contract against a real redis-server, and what a worker dying mid-update leaves. */
import { afterAll, describe, expect, it } from 'vitest';
import { startRedis } from '@ferry/test-kit/redis';
import { enqueue } from '../../commands/model.ts';
import { commandStoreContract } from '../../commands/store.case.ts';
import { RedisCommandStore } from './command-store.ts';

const redis = await startRedis();
afterAll(async () => {
  if (redis.ok) await redis.stop();
});

// Without redis-server: skipped with the reason (startRedis fails instead when CI=true).
if (!redis.ok) describe.skip(`Redis command store: skipped, ${redis.reason}`, () => undefined);
else {
  const client = redis.connect();
  commandStoreContract('redis', () => new RedisCommandStore({ redis: client, prefix: redis.prefix() }));

  describe('Redis command store: one step per update', () => {
    it('lists a command in the same step that queues it: a worker that dies right after leaves none unlisted', async () => {
      const prefix = redis.prefix();
      // The worker's connection runs the queue's step, then dies: nothing it sends after that arrives.
      let sent = 0;
      const dying = new Proxy(client, {
        get(target, key, receiver) {
          const v = Reflect.get(target, key, receiver) as unknown;
          if (typeof v !== 'function') return v;
          return (...a: unknown[]) => {
            if (key !== 'get' && key !== 'evalsha' && key !== 'eval' && key !== 'script') throw new Error(`the worker died before ${String(key)}`);
            sent++;
            return (v as (...x: unknown[]) => unknown).apply(target, a);
          };
        },
      });
      const s = new RedisCommandStore({ redis: dying, prefix });
      const c = {
        id: 'c-dies',
        device: 'd-dies',
        owner: 'acme',
        cmd: { setpoint: 20 },
        priority: 'normal' as const,
        source: 'test',
        createdAt: 1000,
        expiresAt: 61_000,
      };
      await s.update('d-dies', (q) => enqueue(q, c, { depth: 4, overflow: 'reject-new', visibilityMs: 1000, maxAttempts: 2 })).catch(() => undefined);
      expect(sent).toBeGreaterThan(0);
      const after = new RedisCommandStore({ redis: client, prefix });
      expect((await after.get('c-dies'))?.state).toBe('queued');
      expect(await after.recent('acme', 10)).toEqual(['c-dies']);
      expect(await after.recent('acme', 10, 'd-dies')).toEqual(['c-dies']);
    });
  });
}
