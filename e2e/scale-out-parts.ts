/**
 * @module The real parts of the scale-out tests: Debian's Mosquitto and a private redis-server on loopback,
 * started once per test file. `parts()` answers them, or skips the test where they are not installed (and
 * fails it under CI, which installs both).
 */
import { afterAll, beforeAll } from 'vitest';
import { mosquittoAvailable, mosquittoBroker, type TestBroker } from '@ferry/test-kit/brokers';
import { startRedis, type RedisHarness } from '@ferry/test-kit/redis';

export interface ScaleOutParts {
  readonly broker: TestBroker;
  readonly redisUrl: string;
}

/** Call at the top of a test file; call the returned function inside a test. */
export function useScaleOutParts(): (ctx: { skip: () => void }) => ScaleOutParts | undefined {
  let redis: RedisHarness | undefined;
  let broker: TestBroker | undefined;
  beforeAll(async () => {
    if (!mosquittoAvailable()) return;
    redis = await startRedis();
    if (redis.ok) broker = await mosquittoBroker();
  });
  afterAll(async () => {
    await broker?.stop();
    if (redis?.ok === true) await redis.stop();
  });
  return (ctx) => {
    if (broker !== undefined && redis?.ok === true) return { broker, redisUrl: redis.url };
    if (process.env['CI'] === 'true') throw new Error('CI must have mosquitto and redis-server');
    ctx.skip();
    return undefined;
  };
}
