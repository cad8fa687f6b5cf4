import { describe, expect, it } from 'vitest';
import { startRedis } from './redis.ts';

describe('startRedis', () => {
  it('answers on loopback, hands out distinct key prefixes, and stops', async (ctx) => {
    const redis = await startRedis();
    if (!redis.ok) return ctx.skip(redis.reason);
    try {
      expect(redis.url).toMatch(/^rediss?:\/\//);
      const [a, b] = [redis.prefix(), redis.prefix()];
      expect(a).not.toBe(b);
      const c = redis.connect();
      await c.set(`${a}k`, 'v');
      expect(await c.get(`${a}k`)).toBe('v');
    } finally {
      await redis.stop();
    }
  });
});
