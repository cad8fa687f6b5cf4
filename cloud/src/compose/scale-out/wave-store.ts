/**
 * @module What makes one request of a leased component all-or-nothing on Redis (docs/composite-streams.md,
 * "Scale-out"): the engine of the lease holder writes through a WaveBuffer, which keeps a request's writes in
 * memory (reads see them), and the lease commits them with one Lua call that first checks the fencing token,
 * then applies the writes exactly as RedisComposeStore does (latest value, history held once by id, capped),
 * moves the component's cursor past the request, stores its answer and tells the worker that asked. A holder
 * killed mid-wave has written nothing, so the next holder runs the same request again from the start; a
 * holder whose lease passed to another worker (a long pause) writes nothing either.
 *
 * One Lua call touches keys of several streams: on a Redis Cluster they must share a slot, which the
 * store's key layout (one hash tag per stream) does not give. Scale-out leases need one Redis (with replicas).
 */
import { createHash } from 'node:crypto';
import type { ComposeStore, StreamValue } from '@ferry/compose';
import type { RedisComposeStore } from '../../storage/redis/compose-store.ts';
import { COMPOSE_HISTORY_CAP } from '../../storage/sqlite/compose-store.ts';
import type { Script } from '../../storage/redis/script.ts';

type Op = { kind: 'L'; key: string; value: StreamValue } | { kind: 'A'; key: string; value: StreamValue } | { kind: 'D'; key: string };

const script = (name: string, source: string): Script => ({ name, source, sha: createHash('sha1').update(source).digest('hex') });

/**
 * KEYS: lease, cursor, answer, request stream, then each write's keys. ARGV: the lease value the worker holds,
 * the request's entry id, the answer, its time to live (ms), the channel and message telling the asking worker,
 * the number of writes, then each write: L value | A id lastUpdate value cap | D.
 */
export const COMMIT = script(
  'so-lease-commit',
  `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local k, a = 5, 8
for _ = 1, tonumber(ARGV[7]) do
  local kind = ARGV[a]
  if kind == 'L' then
    redis.call('SET', KEYS[k], ARGV[a + 1]); k = k + 1; a = a + 2
  elseif kind == 'A' then
    if redis.call('HSETNX', KEYS[k + 1], ARGV[a + 1], ARGV[a + 3]) == 1 then
      redis.call('ZADD', KEYS[k], ARGV[a + 2], ARGV[a + 1])
      local over = redis.call('ZCARD', KEYS[k]) - tonumber(ARGV[a + 4])
      if over > 0 then
        local old = redis.call('ZRANGE', KEYS[k], 0, over - 1)
        redis.call('ZREMRANGEBYRANK', KEYS[k], 0, over - 1)
        redis.call('HDEL', KEYS[k + 1], unpack(old))
      end
    end
    k = k + 2; a = a + 5
  else
    redis.call('DEL', KEYS[k], KEYS[k + 1], KEYS[k + 2]); k = k + 3; a = a + 1
  end
end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[4])
redis.call('XTRIM', KEYS[4], 'MINID', ARGV[2])
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 1`,
);

/** Takes the lease when nobody holds it, with a new fencing token. KEYS: lease, fence. ARGV: worker, ms. Answers {1, value} or {0, holder}. */
export const ACQUIRE = script(
  'so-lease-acquire',
  `local cur = redis.call('GET', KEYS[1])
if cur then return {0, cur} end
local v = ARGV[1] .. ':' .. redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], v, 'PX', ARGV[2])
return {1, v}`,
);

/** Extends the lease if this worker still holds it. KEYS: lease. ARGV: value, ms (0: let it go now). */
export const RENEW = script(
  'so-lease-renew',
  `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) == 0 then redis.call('DEL', KEYS[1]) else redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`,
);

/**
 * A ComposeStore over RedisComposeStore that, between `begin` and `take`, keeps writes in memory (reads see
 * them) and hands them over as the keys and arguments of COMMIT. Outside a request it writes through.
 */
export class WaveBuffer implements ComposeStore {
  readonly #inner: RedisComposeStore;
  readonly #cap: number;
  #ops: Op[] | undefined;
  readonly #latest = new Map<string, StreamValue | null>();

  constructor(inner: RedisComposeStore, historyCap = COMPOSE_HISTORY_CAP) {
    this.#inner = inner;
    this.#cap = historyCap;
  }

  begin(): void {
    this.#ops = [];
    this.#latest.clear();
  }

  /** Ends the request: its writes as COMMIT's keys and arguments (after the first fixed ones). */
  take(): { keys: string[]; args: (string | number)[]; writes: number } {
    const ops = this.#ops ?? [];
    this.#ops = undefined;
    this.#latest.clear();
    const keys: string[] = [];
    const args: (string | number)[] = [];
    for (const op of ops) {
      const [latest, z, h] = this.#inner.keys(op.key);
      if (op.kind === 'L') {
        keys.push(latest);
        args.push('L', JSON.stringify(op.value));
      } else if (op.kind === 'A') {
        keys.push(z, h);
        args.push('A', op.value.id, op.value.lastUpdate, JSON.stringify(op.value), this.#cap);
      } else {
        keys.push(latest, z, h);
        args.push('D');
      }
    }
    return { keys, args, writes: ops.length };
  }

  async latest(key: string): Promise<StreamValue | undefined> {
    if (this.#ops !== undefined && this.#latest.has(key)) return this.#latest.get(key) ?? undefined;
    return await this.#inner.latest(key);
  }

  async setLatest(key: string, value: StreamValue): Promise<void> {
    if (this.#ops === undefined) return await this.#inner.setLatest(key, value);
    this.#ops.push({ kind: 'L', key, value });
    this.#latest.set(key, value);
  }

  async append(key: string, value: StreamValue): Promise<void> {
    if (this.#ops === undefined) return await this.#inner.append(key, value);
    if (this.#cap > 0) this.#ops.push({ kind: 'A', key, value });
  }

  async range(key: string, from: number, to: number, limit?: number): Promise<readonly StreamValue[]> {
    const stored = await this.#inner.range(key, from, to, limit);
    const mine = (this.#ops ?? []).flatMap((o) => (o.kind === 'A' && o.key === key && o.value.lastUpdate >= from && o.value.lastUpdate <= to ? [o.value] : []));
    if (mine.length === 0) return stored;
    const seen = new Set(stored.map((v) => v.id));
    return [...stored, ...mine.filter((v) => !seen.has(v.id))].sort((x, y) => x.lastUpdate - y.lastUpdate).slice(0, limit);
  }

  async drop(key: string): Promise<void> {
    if (this.#ops === undefined) return await this.#inner.drop(key);
    this.#ops = this.#ops.filter((o) => o.key !== key);
    this.#ops.push({ kind: 'D', key });
    this.#latest.set(key, null);
  }
}
