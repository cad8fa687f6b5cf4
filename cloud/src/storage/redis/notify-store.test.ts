/** The notifier's store on Redis: the NotifyStore contract, on a single node and on a cluster (one hash tag). */
import { afterAll, describe } from 'vitest';
import { startRedis, startRedisCluster } from '@ferry/test-kit/redis';
import { notifyStoreContract } from '../../notify/stores.case.ts';
import { RedisNotifyStore } from './notify-store.ts';

const redis = await startRedis();
afterAll(async () => {
  if (redis.ok) await redis.stop();
});

// Without redis-server: skipped with the reason (startRedis fails instead when CI=true).
if (!redis.ok) describe.skip(`Redis notify store: skipped, ${redis.reason}`, () => undefined);
else {
  const client = redis.connect();
  notifyStoreContract('redis', () => new RedisNotifyStore({ redis: client, prefix: redis.prefix() }));
}

const cluster = await startRedisCluster();
afterAll(async () => {
  if (cluster.ok) await cluster.stop();
}, 30_000);
if (!cluster.ok) describe.skip(`Redis cluster notify store: skipped, ${cluster.reason}`, () => undefined);
else {
  const client = cluster.connect();
  notifyStoreContract('redis cluster', () => new RedisNotifyStore({ redis: client, prefix: cluster.prefix() }));
}
