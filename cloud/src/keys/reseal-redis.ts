/**
 * @module The Redis half of a master key rotation (scale-out mode): the owners' hash `<prefix>fn:owners`
 * (storage/redis/owner-store.ts), the schedules' hash `<prefix>schedules` (storage/redis/schedule-stores.ts)
 * and the notification channels' hash `<prefix>{notify}:ch` (storage/redis/notify-store.ts).
 * Order, so that a crash at any point is recoverable:
 * 1. `preflight`, before cloud.db changes: refuses while any worker is subscribed to `<prefix>fn:changes`
 *    (every running worker is), and when a value opens under neither key (nothing has changed yet);
 * 2. `resealRedis`, after cloud.db committed the rotation record (which holds the new key): pages of HSCAN,
 *    each page replaced by one Lua script (atomic on the server) that writes a field only if it still holds
 *    the value read. Each value is re-sealed with "new key first, else old", so after a crash between pages a
 *    rerun (which gets the new key from the record) skips what is done and finishes the rest.
 */
import { Redis } from 'ioredis';
import { DeviceError } from '../devices/errors.ts';
import { channelIsSealed, scheduleIsSealed, type Resealer } from './resealer.ts';
import { unopenableError, type Progress } from './reseal-sqlite.ts';

/** KEYS[1] a hash; ARGV triples field, value read, new value. Replaces only unchanged fields; answers how many. */
const REPLACE_IF_UNCHANGED = `local n = 0
for i = 1, #ARGV, 3 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2])
    n = n + 1
  end
end
return n`;

const PAGE = 500;

interface Hash {
  readonly kind: 'owners' | 'schedules' | 'channels';
  readonly key: string;
  readonly reseal: (r: Resealer, field: string, value: string) => string | null | undefined;
  /** Whether a value left as it is holds something sealed (counted); default: every value does. */
  readonly holdsSealed?: (v: string) => boolean;
}

const hashes = (prefix: string): Hash[] => [
  { kind: 'owners', key: `${prefix}fn:owners`, reseal: (r, f, v) => r.redisOwner(f, v) },
  { kind: 'schedules', key: `${prefix}schedules`, reseal: (r, _f, v) => r.schedule(v), holdsSealed: scheduleIsSealed },
  { kind: 'channels', key: `${prefix}{notify}:ch`, reseal: (r, _f, v) => r.channel(v), holdsSealed: channelIsSealed },
];

export interface RedisTarget {
  readonly url: string;
  /** Key prefix of the cloud's stores (default `ferry:`, what `ferry cloud start --redis` uses). */
  readonly prefix?: string | undefined;
}

export const connectRedis = (t: RedisTarget): Redis => new Redis(t.url, { maxRetriesPerRequest: 3, lazyConnect: false });

async function* pages(redis: Redis, key: string): AsyncGenerator<[string, string][]> {
  let cursor = '0';
  do {
    const [next, flat] = await redis.hscan(key, cursor, 'COUNT', PAGE);
    cursor = next;
    const page: [string, string][] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) page.push([flat[i]!, flat[i + 1]!]);
    if (page.length > 0) yield page;
  } while (cursor !== '0');
}

/** Step 1: no worker running, every value opens under one of the two keys. */
export async function preflight(redis: Redis, t: RedisTarget, r: Resealer): Promise<void> {
  const prefix = t.prefix ?? 'ferry:';
  const [, subscribers] = (await redis.pubsub('NUMSUB', `${prefix}fn:changes`)) as [string, number];
  if (Number(subscribers) > 0)
    throw new DeviceError('FERRY_DEVICE_DATA_DIR_BUSY', `${subscribers} cloud worker(s) are connected to Redis (${prefix}fn:changes): stop every worker first`);
  const unopenable: string[] = [];
  for (const h of hashes(prefix))
    for await (const page of pages(redis, h.key)) for (const [f, v] of page) if (h.reseal(r, f, v) === undefined) unopenable.push(`${h.key} ${f}`);
  if (unopenable.length > 0) throw unopenableError(unopenable);
}

/** Step 2: counts the values sealed under the new key afterwards, by kind. */
export async function resealRedis(
  redis: Redis,
  t: RedisTarget,
  r: Resealer,
  o: { onProgress?: Progress | undefined; afterPage?: ((n: number) => void) | undefined } = {},
): Promise<{ owners: number; schedules: number; channels: number }> {
  const prefix = t.prefix ?? 'ferry:';
  const counts = { owners: 0, schedules: 0, channels: 0 };
  const hs = hashes(prefix);
  let total = 0;
  for (const h of hs) total += await redis.hlen(h.key);
  let done = 0;
  let pagesDone = 0;
  for (const h of hs) {
    const seen = new Set<string>(); // HSCAN may return a field twice
    for await (const page of pages(redis, h.key)) {
      const args: string[] = [];
      for (const [f, v] of page) {
        if (seen.has(f)) continue;
        seen.add(f);
        const out = h.reseal(r, f, v);
        if (out === undefined) throw unopenableError([`${h.key} ${f}`]); // written meanwhile: preflight saw none
        if (out !== null) args.push(f, v, out);
        if (out !== null || h.holdsSealed === undefined || h.holdsSealed(v)) counts[h.kind]++;
      }
      if (args.length > 0) {
        const n = Number(await redis.eval(REPLACE_IF_UNCHANGED, 1, h.key, ...args));
        if (n !== args.length / 3)
          throw new DeviceError('FERRY_DEVICE_DATA_DIR_BUSY', `${h.key} changed during the rotation: is a cloud worker running? Stop it, then run again`);
      }
      done += page.length;
      pagesDone++;
      o.afterPage?.(pagesDone);
      o.onProgress?.({ phase: 'redis', done: Math.min(done, total), total });
    }
  }
  return counts;
}
