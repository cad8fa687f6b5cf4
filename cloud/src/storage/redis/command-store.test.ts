/** The command store on Redis: the CommandStore contract against a real redis-server. */
import { afterAll, describe } from 'vitest';
import { startRedis } from '@ferry/test-kit/redis';
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
}
