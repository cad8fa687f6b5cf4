/**
 * @module The Redis TimeSeriesStore: one sorted set per stream (score = ts), appended by one Lua call
 * (time-series.lua) that also bumps the stream's counter, so equal timestamps keep append order; `query`
 * is one ZRANGE BYSCORE [from, to). Why not Redis Streams (XADD): entry ids must grow, so a point whose
 * ts is older than the stream's last (a group released with an earlier arrival time, workers with skewed
 * clocks) could not be stored under its ts, and a ts range query would need ids derived from ts.
 */
import type { Point, QueryLimit, TimeSeriesStore } from '../../ingest/ports.ts';
import { StoreError, wrap } from '../errors.ts';
import { command, loadScript, runScript, type RedisClient } from './script.ts';
import { pointValue } from '../codecs.ts';

const APPEND = loadScript('time-series.lua');

export interface RedisTimeSeriesOptions {
  readonly redis: RedisClient;
  /** Key prefix; default `ferry:`. No braces: the hash tag is the stream's. */
  readonly prefix?: string;
}

/** Redis spells infinite score bounds -inf/+inf; a number prints exactly with String() (shortest round trip). */
const bound = (x: number): string => (x === Infinity ? '+inf' : x === -Infinity ? '-inf' : String(x));

export class RedisTimeSeries implements TimeSeriesStore {
  readonly #redis: RedisClient;
  readonly #prefix: string;

  constructor(opts: RedisTimeSeriesOptions) {
    const prefix = opts.prefix ?? 'ferry:';
    if (/[{}]/.test(prefix)) throw new StoreError('FERRY_STORE_CONFIG', 'prefix must not contain { or }: the hash tag is the stream');
    this.#redis = opts.redis;
    this.#prefix = prefix;
  }

  /** The sorted set of a stream, its counter and its identity set (one slot: the stream is the hash tag). */
  keys(stream: string): readonly [string, string, string] {
    return [`${this.#prefix}ts:{${stream}}:z`, `${this.#prefix}ts:{${stream}}:n`, `${this.#prefix}ts:{${stream}}:id`];
  }

  async append(stream: string, point: Point): Promise<void> {
    const value = pointValue(point);
    if (!Number.isFinite(point.ts)) throw new StoreError('FERRY_STORE_POINT', `ts must be finite in Redis, got ${point.ts}`);
    const json = `{"ts":${JSON.stringify(point.ts)},"kid":${JSON.stringify(point.kid)},"ep":${JSON.stringify(point.ep)},"sq":${JSON.stringify(point.sq)},"value":${value}}`;
    await runScript(this.#redis, APPEND, this.keys(stream), [String(point.ts), json, `${point.kid} ${point.ep} ${point.sq}`]);
  }

  async query(stream: string, from: number, to: number, limit?: QueryLimit): Promise<Point[]> {
    if (Number.isNaN(from) || Number.isNaN(to) || !(from < to)) return [];
    const [z] = this.keys(stream);
    const n = limit === undefined ? 0 : Math.max(0, Math.floor(limit.count));
    if (limit !== undefined && n === 0) return [];
    // '(' makes the upper bound exclusive: from <= ts < to (ports.ts). Newest first and reversed, equal scores
    // come back in reverse member order, so reversed they keep append order.
    const members = await command('time series query', async () =>
      limit === undefined
        ? this.#redis.zrangebyscore(z, bound(from), `(${bound(to)}`)
        : limit.newest === true
          ? (await this.#redis.zrevrangebyscore(z, `(${bound(to)}`, bound(from), 'LIMIT', 0, n)).reverse()
          : this.#redis.zrangebyscore(z, bound(from), `(${bound(to)}`, 'LIMIT', 0, n),
    );
    return members.map((m) => wrap('FERRY_STORE_CORRUPT', `a point of ${stream}`, () => JSON.parse(m.slice(m.indexOf('|') + 1)) as Point));
  }
}
