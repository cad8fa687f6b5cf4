/** The TimeSeriesStore conformance suite on a real Redis (@ferry/test-kit/redis), plus the key layout. */
import { afterAll, describe, expect, it } from 'vitest';
import { startRedis } from '@ferry/test-kit/redis';
import { RedisTimeSeries } from './time-series.ts';
import { timeSeriesCases } from '../time-series.case.ts';

const redis = await startRedis();
afterAll(async () => {
  if (redis.ok) await redis.stop();
});
if (!redis.ok)
  describe.skip(`Redis time series: skipped, ${redis.reason}`, () => {
    it('needs redis-server', () => {});
  });

if (redis.ok) {
  const client = redis.connect();
  timeSeriesCases('redis (sorted sets)', () => new RedisTimeSeries({ redis: client, prefix: redis.prefix() }));

  describe('RedisTimeSeries', () => {
    it('keeps a stream in one slot (the stream is the hash tag) and keeps equal points of other identities apart', async () => {
      const prefix = redis.prefix();
      const s = new RedisTimeSeries({ redis: client, prefix });
      expect(s.keys('dev1/tel')).toEqual([`${prefix}ts:{dev1/tel}:z`, `${prefix}ts:{dev1/tel}:n`, `${prefix}ts:{dev1/tel}:id`]);
      const p = { ts: 5, kid: 'dev1', ep: 0, sq: 0, value: 1 };
      await s.append('dev1/tel', p);
      await s.append('dev1/tel', p);
      await s.append('dev1/tel', { ...p, sq: 1 });
      expect(await s.query('dev1/tel', 5, 6)).toEqual([p, { ...p, sq: 1 }]);
      expect(await client.zcard(`${prefix}ts:{dev1/tel}:z`)).toBe(2);
      expect(await s.query('dev1/tel', 6, 5)).toEqual([]);
    });
    it('refuses a non-finite ts and a prefix with braces', async () => {
      const s = new RedisTimeSeries({ redis: client, prefix: redis.prefix() });
      await expect(s.append('x', { ts: Infinity, kid: 'a', ep: 0, sq: 0, value: 1 })).rejects.toMatchObject({ code: 'FERRY_STORE_POINT' });
      expect(() => new RedisTimeSeries({ redis: client, prefix: '{x}' })).toThrow(expect.objectContaining({ code: 'FERRY_STORE_CONFIG' }));
    });
  });
}
