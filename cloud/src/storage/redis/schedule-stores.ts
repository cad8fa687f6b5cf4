/**
 * @module The scheduler's ports on Redis (scale-out, stores.ts), shared by every cloud worker:
 * - schedules: one hash `<prefix>schedules`, field = schedule id, value = the schedule's JSON;
 * - leases: one key per schedule, `<prefix>lease:{<id>}` = "<period> <worker>". A claim is one Lua script
 *   (atomic on the server) that wins iff the stored period is older than the one asked for, then sets it with
 *   `PX` = two periods. That is `SET ... NX PX` per (schedule, period) with one more guarantee, the one
 *   MemoryLeaseStore and SqliteLeaseStore give: a period older than one already claimed is refused, so a late
 *   worker never runs it after its successor ran. One key per command or script, so it works on a Redis
 *   Cluster too (the `{id}` hash tag only keeps a schedule's keys together if more are ever added).
 */
import { createHash } from 'node:crypto';
import { StoreError } from '../errors.ts';
import { command, runScript, type RedisClient, type Script } from './script.ts';
import type { SecretSealer } from '../../functions/tokens/sealed-secret.ts';
import { decodeSchedule, encodeSchedule, scheduleSealer } from '../codecs.ts';
import type { LeaseStore, Schedule, ScheduleStore } from '../../functions/schedules/stores.ts';

export interface RedisStoreOptions {
  /** An ioredis client (Redis or Cluster); the caller owns it. Workers that share schedules share `prefix`. */
  readonly redis: RedisClient;
  /** Key prefix; default `ferry:`. */
  readonly prefix?: string;
  /** With the master key the tokens schedules run under are stored sealed (codecs.ts). */
  readonly masterKey?: Uint8Array;
}

function checkPrefix(prefix: string): string {
  if (/[{}]/.test(prefix)) throw new StoreError('FERRY_STORE_CONFIG', 'prefix must not contain { or }: the hash tag is the schedule id');
  return prefix;
}

export class RedisScheduleStore implements ScheduleStore {
  readonly #redis: RedisClient;
  readonly #key: string;

  readonly #sealer: SecretSealer | undefined;

  constructor(opts: RedisStoreOptions) {
    this.#redis = opts.redis;
    this.#key = `${checkPrefix(opts.prefix ?? 'ferry:')}schedules`;
    this.#sealer = opts.masterKey === undefined ? undefined : scheduleSealer(opts.masterKey);
  }

  async put(s: Schedule): Promise<void> {
    await command('HSET schedules', () => this.#redis.hset(this.#key, s.id, encodeSchedule(s, this.#sealer)));
  }

  async get(id: string): Promise<Schedule | undefined> {
    const v = await command('HGET schedules', () => this.#redis.hget(this.#key, id));
    return v === null ? undefined : decodeSchedule(v, `schedule ${id}`, this.#sealer);
  }

  async delete(id: string): Promise<boolean> {
    return (await command('HDEL schedules', () => this.#redis.hdel(this.#key, id))) === 1;
  }

  /** Every worker lists on every tick: one HVALS, fine for thousands of schedules, not for millions. */
  async list(): Promise<Schedule[]> {
    const vs = await command('HVALS schedules', () => this.#redis.hvals(this.#key));
    return vs.map((v) => decodeSchedule(v, this.#key, this.#sealer)).sort((a, b) => a.startMs - b.startMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}

/** KEYS[1] the schedule's lease; ARGV period, worker, ttl ms. 1 = won. */
const CLAIM_SOURCE = `local cur = redis.call('GET', KEYS[1])
if cur then
  local n = tonumber(string.match(cur, '^%-?%d+'))
  if n ~= nil and n >= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. ARGV[2], 'PX', ARGV[3])
return 1
`;
const CLAIM: Script = { name: 'schedule-claim.lua', source: CLAIM_SOURCE, sha: createHash('sha1').update(CLAIM_SOURCE).digest('hex') };

export interface RedisLeaseOptions extends RedisStoreOptions {
  /**
   * Where to read a schedule's period: the lease then lives two periods (long enough to refuse every late claim
   * of a period, short enough to clean up after a deleted schedule). Read once per schedule id.
   */
  readonly schedules?: ScheduleStore;
  /** Lease lifetime for a schedule the store does not know (or without a store); default one day. */
  readonly defaultTtlMs?: number;
}

export class RedisLeaseStore implements LeaseStore {
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #schedules: ScheduleStore | undefined;
  readonly #defaultTtlMs: number;
  /** Period of each schedule, in ms (a schedule's period never changes). Bounded. */
  readonly #periodMs = new Map<string, number>();

  constructor(opts: RedisLeaseOptions) {
    this.#redis = opts.redis;
    this.#prefix = checkPrefix(opts.prefix ?? 'ferry:');
    this.#schedules = opts.schedules;
    this.#defaultTtlMs = opts.defaultTtlMs ?? 86_400_000;
    if (!Number.isSafeInteger(this.#defaultTtlMs) || this.#defaultTtlMs <= 0)
      throw new StoreError('FERRY_STORE_CONFIG', 'defaultTtlMs must be a positive integer');
  }

  key(scheduleId: string): string {
    return `${this.#prefix}lease:{${scheduleId}}`;
  }

  async claim(scheduleId: string, periodIndex: number, workerId: string): Promise<boolean> {
    if (!Number.isSafeInteger(periodIndex) || periodIndex < 0)
      throw new StoreError('FERRY_STORE_RANGE', `period index must be a non-negative integer, got ${periodIndex}`);
    const ttl = await this.#ttlMs(scheduleId);
    return (await runScript(this.#redis, CLAIM, [this.key(scheduleId)], [periodIndex, workerId, ttl])) === 1;
  }

  /** Who won the newest period claimed, and which period that is. */
  async newest(scheduleId: string): Promise<{ period: number; worker: string } | undefined> {
    const v = await command('GET lease', () => this.#redis.get(this.key(scheduleId)));
    const m = v === null ? null : /^(\d+) (.*)$/s.exec(v);
    return m === null ? undefined : { period: Number(m[1]), worker: m[2]! };
  }

  async #ttlMs(scheduleId: string): Promise<number> {
    let p = this.#periodMs.get(scheduleId);
    if (p === undefined && this.#schedules !== undefined) {
      const s = await this.#schedules.get(scheduleId);
      if (s !== undefined) {
        p = s.periodS * 1000;
        if (this.#periodMs.size >= 10_000) this.#periodMs.clear();
        this.#periodMs.set(scheduleId, p);
      }
    }
    return p === undefined ? this.#defaultTtlMs : 2 * p;
  }
}
