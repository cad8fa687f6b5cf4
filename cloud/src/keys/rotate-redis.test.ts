/**
 * Master key rotation in scale-out mode: devices in cloud.db, owners and schedules in Redis. A worker still
 * connected to Redis refuses the rotation; a rotation killed between the owners' page and the schedules' is
 * finished by a rerun; afterwards every Redis value opens under the new key only and a restarted worker
 * serves every device, token and schedule.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '@ferry/test-kit/functions';
import { startRedis, type RedisHarness } from '@ferry/test-kit/redis';
import { SecretSealer } from '../functions/tokens/sealed-secret.ts';
import { scheduleSealer } from '../storage/codecs.ts';
import { channelAad, notifySealer } from '../notify/config.ts';
import { rotateMasterKey } from './rotate-master-key.ts';
import { check, populate, sealedUnder, startCloud } from './rotation.case.ts';

let redis: RedisHarness | undefined;
beforeAll(async () => {
  redis = await startRedis();
}); // throws under CI=true when there is no Redis
afterAll(async () => {
  if (redis?.ok === true) await redis.stop();
});

const keyOf = (dataDir: string): Buffer => Buffer.from(readFileSync(join(dataDir, 'master.key'), 'utf8').trim(), 'hex');

/** The Redis values `key` opens, as `<hash> <field>`. */
async function redisUnder(key: Uint8Array): Promise<string[]> {
  if (redis?.ok !== true) return [];
  const c = redis.connect();
  const owners = await c.hgetall('ferry:fn:owners');
  const schedules = await c.hgetall('ferry:schedules');
  const channels = await c.hgetall('ferry:{notify}:ch');
  const o = new SecretSealer(key);
  const s = scheduleSealer(key);
  const n = notifySealer(key);
  return [
    ...Object.entries(owners)
      .filter(([id, v]) => o.open(id, Buffer.from((JSON.parse(v) as { s: string }).s, 'base64')) !== undefined)
      .map(([id]) => `owners ${id}`),
    ...Object.entries(schedules)
      .filter(([id, v]) => {
        const t = (JSON.parse(v) as { sealedToken?: string }).sealedToken;
        return t !== undefined && s.open(`schedule:${id}`, Buffer.from(t, 'base64')) !== undefined;
      })
      .map(([id]) => `schedules ${id}`),
    ...Object.entries(channels)
      .filter(([, v]) => {
        const ch = JSON.parse(v) as { id: string; owner: string | undefined; sealedSecret?: string };
        return ch.sealedSecret !== undefined && n.open(channelAad(ch), Buffer.from(ch.sealedSecret, 'base64')) !== undefined;
      })
      .map(([id]) => `channels ${id}`),
  ];
}

describe('ferry cloud rotate-master-key --redis (scale-out)', () => {
  it('refuses while a worker is connected, finishes after a crash between pages, and the worker runs on the new key', async (ctx) => {
    if (redis === undefined || !redis.ok) return ctx.skip(`needs Redis: ${redis?.ok === false ? redis.reason : 'not started'}`);
    // The cloud keeps its Redis keys under the fixed prefix `ferry:`: a shared server may hold other runs' values.
    if (process.env['REDIS_URL'] !== undefined) return ctx.skip('needs a Redis of its own (REDIS_URL is shared)');
    const target = { url: redis.url };
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-rotate-redis-'));
    const clock = new ManualClock();
    const first = await startCloud(dataDir, clock, { redisUrl: redis.url });
    const p = await populate(first, clock, { devices: 3 });
    await first.stop();
    const oldKey = keyOf(dataDir);
    expect(await redisUnder(oldKey)).toHaveLength(2 + 2 + 1);

    // A worker on another data dir shares the Redis: the data dir lock cannot see it, its subscription can.
    const other = await startCloud(mkdtempSync(join(tmpdir(), 'ferry-rotate-redis-')), clock, { redisUrl: redis.url });
    await expect(rotateMasterKey({ dataDir, env: {}, redis: target })).rejects.toMatchObject({ code: 'FERRY_DEVICE_DATA_DIR_BUSY' });
    await other.stop();
    expect(keyOf(dataDir).equals(oldKey)).toBe(true);

    // Killed after the owners' page: owners under the new key, schedules and the channel under the old one.
    const crash = new Error('crash after the first page');
    const hooks = {
      afterPage: (n: number) => {
        if (n === 1) throw crash;
      },
    };
    await expect(rotateMasterKey({ dataDir, env: {}, redis: target, hooks })).rejects.toBe(crash);
    expect((await redisUnder(oldKey)).map((x) => x.split(' ')[0])).toEqual(['schedules', 'schedules', 'channels']);
    await expect(startCloud(dataDir, clock, { redisUrl: redis.url })).rejects.toMatchObject({ code: 'FERRY_DEVICE_ROTATION_UNFINISHED' });

    const r = await rotateMasterKey({ dataDir, env: {}, redis: target });
    expect(r).toMatchObject({ resumed: true, rotated: { devices: 3, owners: 2, schedules: 2, channels: 1, callbacks: 1 } });
    const newKey = keyOf(dataDir);
    expect(await redisUnder(oldKey)).toEqual([]);
    expect(await redisUnder(newKey)).toHaveLength(5);
    expect(sealedUnder(dataDir, oldKey)).toEqual([]);

    const again = await startCloud(dataDir, clock, { redisUrl: redis.url });
    try {
      await check(again, p);
    } finally {
      await again.stop();
    }
  }, 60_000);
});
