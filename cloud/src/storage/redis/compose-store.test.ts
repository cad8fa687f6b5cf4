/** The composite-stream store on Redis: the ComposeStore contract; each output held once; the history bounded. */
import { afterAll, describe, expect, it } from 'vitest';
import { composeStoreContract } from '@ferry/compose/store-contract';
import { startRedis } from '@ferry/test-kit/redis';
import { RedisComposeStore } from './compose-store.ts';

const redis = await startRedis();
afterAll(async () => {
  if (redis.ok) await redis.stop();
});

// Without redis-server: skipped with the reason (startRedis fails instead when CI=true).
if (!redis.ok) describe.skip(`Redis compose store: skipped, ${redis.reason}`, () => undefined);
else {
  const client = redis.connect();
  composeStoreContract('redis', () => new RedisComposeStore({ redis: client, prefix: redis.prefix() }));

  const v = (lastUpdate: number, id = `src:${lastUpdate}`) => ({ channels: { a: lastUpdate }, lastUpdate, id });

  describe('RedisComposeStore', () => {
    it('holds an output once however often it is appended (its id is its idempotency key)', async () => {
      const s = new RedisComposeStore({ redis: client, prefix: redis.prefix() });
      for (let i = 0; i < 3; i++) await s.append('so/B', v(7, 'out:abc'));
      expect(await s.range('so/B', 0, 10)).toEqual([v(7, 'out:abc')]);
    });

    it('keeps the newest cap outputs per stream', async () => {
      const s = new RedisComposeStore({ redis: client, prefix: redis.prefix(), historyCap: 50 });
      for (let t = 1; t <= 120; t++) await s.append('so/C', v(t));
      const kept = (await s.range('so/C', 0, 1000)).map((x) => x.lastUpdate);
      expect([kept.length, kept[0], kept.at(-1)]).toEqual([50, 71, 120]);
    });
  });
}
