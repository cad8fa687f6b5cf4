/**
 * @module The alarm store on Redis (scale-out), shared by every worker. Rules and alarms are hashes of JSON;
 * an alarm's save is one Lua call (below) that compares its version, claims or frees its (owner, type,
 * source), remembers the transition key (expiring after TRANSITION_KEEP_MS) and keeps the owner's listing and
 * the live set, so two workers applying one transition store it once. All keys share the hash tag `{alarm}`:
 * one cluster slot.
 */
import { createHash } from 'node:crypto';
import { StoreError } from '../storage/errors.ts';
import { command, runScript, type RedisClient, type Script } from '../storage/redis/script.ts';
import { matches, openKey, TRANSITION_KEEP_MS } from './sqlite-store.ts';
import { ALARM_LIMITS, type AlarmFilter, type AlarmRule, type AlarmStore, type SaveResult, type Scope, type StoredAlarm } from './types.ts';

// KEYS: alarms, versions, open index, owner listing, all listing, owner's cleared, live set, transition key.
// ARGV: id, version, open key, open (1/0), live (1/0), firstMs, json, use transition (1/0), keep ms, cleared kept.
const SAVE_SOURCE = `
if ARGV[8] == '1' and redis.call('EXISTS', KEYS[8]) == 1 then return 'duplicate' end
local cur = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if cur ~= tonumber(ARGV[2]) - 1 then return 'conflict' end
local held = redis.call('HGET', KEYS[3], ARGV[3])
if ARGV[4] == '1' then
  if held and held ~= ARGV[1] then return 'conflict' end
  redis.call('HSET', KEYS[3], ARGV[3], ARGV[1])
elseif held == ARGV[1] then
  redis.call('HDEL', KEYS[3], ARGV[3])
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[7])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[4], ARGV[6], ARGV[1])
redis.call('ZADD', KEYS[5], ARGV[6], ARGV[1])
if ARGV[5] == '1' then redis.call('SADD', KEYS[7], ARGV[1]) else redis.call('SREM', KEYS[7], ARGV[1]) end
if ARGV[8] == '1' then redis.call('SET', KEYS[8], '1', 'PX', ARGV[9]) end
if ARGV[4] == '0' then
  redis.call('ZADD', KEYS[6], ARGV[6], ARGV[1])
  local n = redis.call('ZCARD', KEYS[6]) - tonumber(ARGV[10])
  if n > 0 then
    for _, old in ipairs(redis.call('ZRANGE', KEYS[6], 0, n - 1)) do
      redis.call('HDEL', KEYS[1], old)
      redis.call('HDEL', KEYS[2], old)
      redis.call('ZREM', KEYS[4], old)
      redis.call('ZREM', KEYS[5], old)
      redis.call('SREM', KEYS[7], old)
    end
    redis.call('ZREMRANGEBYRANK', KEYS[6], 0, n - 1)
  end
end
return 'ok'
`;
const UPDATE_RULE_SOURCE = `if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`;
const UPDATE_RULE: Script = { name: 'alarm-update-rule', source: UPDATE_RULE_SOURCE, sha: createHash('sha1').update(UPDATE_RULE_SOURCE).digest('hex') };
const SAVE: Script = { name: 'alarm-save', source: SAVE_SOURCE, sha: createHash('sha1').update(SAVE_SOURCE).digest('hex') };

export interface RedisAlarmStoreOptions {
  readonly redis: RedisClient;
  /** Key prefix; default `ferry:`. No braces: the hash tag is the store's. */
  readonly prefix?: string;
}

const parse = <T>(s: string | null | undefined): T | undefined => (s === null || s === undefined ? undefined : (JSON.parse(s) as T));

export class RedisAlarmStore implements AlarmStore {
  readonly #redis: RedisClient;
  readonly #b: string;

  constructor(o: RedisAlarmStoreOptions) {
    const prefix = o.prefix ?? 'ferry:';
    if (/[{}]/.test(prefix)) throw new StoreError('FERRY_STORE_CONFIG', 'prefix must not contain { or }: the hash tag is the store');
    this.#redis = o.redis;
    this.#b = `${prefix}{alarm}:`;
  }

  async putRule(r: AlarmRule): Promise<void> {
    await command('alarm putRule', () => this.#redis.hset(`${this.#b}rules`, r.id, JSON.stringify(r)));
  }
  async updateRule(r: AlarmRule): Promise<boolean> {
    return (await runScript(this.#redis, UPDATE_RULE, [`${this.#b}rules`], [r.id, JSON.stringify(r)])) === 1;
  }
  async getRule(id: string): Promise<AlarmRule | undefined> {
    return parse<AlarmRule>(await command('alarm getRule', () => this.#redis.hget(`${this.#b}rules`, id)));
  }
  async listRules(scope: Scope): Promise<readonly AlarmRule[]> {
    const all = Object.values(await command('alarm listRules', () => this.#redis.hgetall(`${this.#b}rules`))).map((s) => JSON.parse(s) as AlarmRule);
    return all
      .filter((r) => scope === 'all' || (r.owner ?? '') === (scope.owner ?? ''))
      .sort((a, b) => a.createdMs - b.createdMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
  async deleteRule(id: string): Promise<void> {
    await command('alarm deleteRule', () => this.#redis.hdel(`${this.#b}rules`, id));
  }

  async getAlarm(id: string): Promise<StoredAlarm | undefined> {
    return parse<StoredAlarm>(await command('alarm get', () => this.#redis.hget(`${this.#b}a`, id)));
  }
  async openAlarm(owner: string | undefined, type: string, source: string): Promise<StoredAlarm | undefined> {
    const id = await command('alarm open', () => this.#redis.hget(`${this.#b}open`, openKey(owner, type, source)));
    return id === null ? undefined : this.getAlarm(id);
  }
  async listAlarms(scope: Scope, filter: AlarmFilter, limit: number): Promise<readonly StoredAlarm[]> {
    const z = scope === 'all' ? `${this.#b}z*` : `${this.#b}z:${scope.owner ?? ''}`;
    const out: StoredAlarm[] = [];
    // Newest first, a page at a time, filtered here: an owner's alarms are bounded (docs/limits.md).
    for (let from = 0; out.length < limit; from += 256) {
      const ids = await command('alarm list', () => this.#redis.zrevrange(z, from, from + 255));
      if (ids.length === 0) break;
      const jsons = await command('alarm list', () => this.#redis.hmget(`${this.#b}a`, ...ids));
      for (const s of jsons) {
        const a = parse<StoredAlarm>(s);
        if (a !== undefined && matches(a, filter)) out.push(a);
        if (out.length >= limit) break;
      }
    }
    return out;
  }
  async openCount(owner: string | undefined): Promise<number> {
    const z = `${this.#b}z:${owner ?? ''}`;
    const all = await command('alarm openCount', () => this.#redis.zcard(z));
    const cleared = await command('alarm openCount', () => this.#redis.zcard(`${this.#b}zc:${owner ?? ''}`));
    return all - cleared;
  }
  async live(): Promise<readonly StoredAlarm[]> {
    const ids = await command('alarm live', () => this.#redis.smembers(`${this.#b}live`));
    if (ids.length === 0) return [];
    const jsons = await command('alarm live', () => this.#redis.hmget(`${this.#b}a`, ...ids));
    return jsons
      .map((s) => parse<StoredAlarm>(s))
      .filter((a): a is StoredAlarm => a !== undefined)
      .sort((a, b) => a.firstMs - b.firstMs);
  }
  async save(a: StoredAlarm, transition?: string): Promise<SaveResult> {
    const owner = a.owner ?? '';
    const open = a.status !== 'cleared';
    const live = open || a.pending.length > 0 || a.commandDue === true;
    const keys = [
      `${this.#b}a`,
      `${this.#b}v`,
      `${this.#b}open`,
      `${this.#b}z:${owner}`,
      `${this.#b}z*`,
      `${this.#b}zc:${owner}`,
      `${this.#b}live`,
      `${this.#b}t:${transition ?? ''}`,
    ];
    const args = [a.id, a.version, openKey(a.owner, a.type, a.source), open ? 1 : 0, live ? 1 : 0, a.firstMs, JSON.stringify(a)];
    const r = await runScript(this.#redis, SAVE, keys, [...args, transition !== undefined ? 1 : 0, TRANSITION_KEEP_MS, ALARM_LIMITS.clearedPerOwner]);
    return r as SaveResult;
  }
}
