/**
 * The cluster-safety claim, tested: on a real three-master Redis Cluster (@ferry/test-kit/redis) the Redis
 * ReorderStore passes the conformance suite — every script call touches one slot only, or Redis would answer
 * CROSSSLOT — devices spread over all masters, and reindex() scans every master. The time series too.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { reorderStoreCases } from '../../ingest/reorder-store.case.ts';
import { startRedisCluster } from '@ferry/test-kit/redis';
import { RedisReorderStore } from './reorder-store.ts';
import { RedisTimeSeries } from './time-series.ts';
import { timeSeriesCases } from '../time-series.case.ts';

const cluster = await startRedisCluster();
afterAll(async () => {
  if (cluster.ok) await cluster.stop();
});
if (!cluster.ok)
  describe.skip(`Redis Cluster: skipped, ${cluster.reason}`, () => {
    it('needs redis-server and redis-cli', () => {});
  });

if (cluster.ok) {
  const client = cluster.connect();
  reorderStoreCases('redis cluster (reorder.lua)', (config) => new RedisReorderStore<string>({ redis: client, config, prefix: cluster.prefix() }));
  timeSeriesCases('redis cluster (sorted sets)', () => new RedisTimeSeries({ redis: client, prefix: cluster.prefix() }));

  describe('RedisReorderStore on a cluster', () => {
    it('devices land on different masters; tick, flush and reindex reach them all', async () => {
      const s = new RedisReorderStore<string>({ redis: client, config: { window: 8, timeoutMs: 50 }, prefix: cluster.prefix() });
      const kids = Array.from({ length: 12 }, (_, i) => `dev${i}`);
      for (const kid of kids) await s.apply(kid, { ep: 1, sq: 2, ref: `${kid}/2` }, 0);
      const slots = await Promise.all(kids.map((k) => client.cluster('KEYSLOT', s.stateKey(k)) as Promise<number>));
      expect(new Set(slots.map((x) => Math.floor(x / 5462))).size).toBeGreaterThan(1); // 16384 slots over 3 masters
      const [index, ver] = s.dueKeys();
      await client.del(index);
      await client.del(ver);
      expect(await s.reindex()).toBe(12);
      expect((await s.tick(50)).map((x) => x.kid)).toEqual([...kids].sort());
      await s.apply('dev0', { ep: 1, sq: 9, ref: 'x' }, 60);
      expect((await s.flush(61)).map((x) => x.kid)).toEqual(['dev0']);
    });
  });
}
