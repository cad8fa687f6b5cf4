/**
 * @module Service-object records and grants on Redis (scale-out; docs/composite-streams.md "Hosting"): a
 * hash of records by id (the document as JSON text), a hash of object counts by owner, and a set of grants
 * per object. Every worker reads them: a worker installs an object another created when it first meets it,
 * and asks for grants at every cross-owner read, so a revocation on one worker stops the flow on all. Every
 * change of a record is also noted in a change log (so-change.lua: a counter and a sorted set of ids by it),
 * which each worker reads before each operation to bring its copies up to date.
 */
import type { Grant } from '@ferry/compose';
import { grantKey, grantOf, type SoRecord, type SoRecordStore } from '../../compose/records.ts';
import { StoreError } from '../errors.ts';
import { command, loadScript, runScript, type RedisClient } from './script.ts';

const CHANGE = loadScript('so-change.lua');

export class RedisSoRecords implements SoRecordStore {
  readonly #redis: RedisClient;
  readonly #prefix: string;

  /** `prefix`: key prefix (default `ferry:`); the records and counts share the hash tag `{sos}`. */
  constructor(redis: RedisClient, prefix = 'ferry:') {
    if (/[{}]/.test(prefix)) throw new StoreError('FERRY_STORE_CONFIG', 'prefix must not contain { or }');
    this.#redis = redis;
    this.#prefix = prefix;
  }

  get #recs(): string {
    return `${this.#prefix}{sos}:records`;
  }
  get #counts(): string {
    return `${this.#prefix}{sos}:owners`;
  }
  get #changes(): [string, string] {
    return [`${this.#prefix}{sos}:seq`, `${this.#prefix}{sos}:changes`];
  }
  #grants(so: string): string {
    return `${this.#prefix}{sos}:grants:${so}`;
  }

  async put(rec: SoRecord): Promise<void> {
    const old = await this.get(rec.id);
    await command('so put', async () => {
      const m = this.#redis.multi().hset(this.#recs, rec.id, JSON.stringify(rec));
      if (old === undefined) m.hincrby(this.#counts, rec.owner, 1);
      else if (old.owner !== rec.owner) m.hincrby(this.#counts, old.owner, -1).hincrby(this.#counts, rec.owner, 1);
      await m.exec();
    });
    await runScript(this.#redis, CHANGE, this.#changes, [rec.id]);
  }
  async get(id: string): Promise<SoRecord | undefined> {
    const raw = await command('so get', () => this.#redis.hget(this.#recs, id));
    return raw === null ? undefined : (JSON.parse(raw) as SoRecord);
  }
  async delete(id: string): Promise<void> {
    const old = await this.get(id);
    if (old === undefined) return;
    await command('so delete', async () => {
      await this.#redis.multi().hdel(this.#recs, id).hincrby(this.#counts, old.owner, -1).del(this.#grants(id)).exec();
    });
    await runScript(this.#redis, CHANGE, this.#changes, [id]);
  }

  /** The objects changed after change number `seen`, and the number of the last change. */
  async changedSince(seen: number): Promise<{ readonly seq: number; readonly ids: readonly string[] }> {
    const [, z] = this.#changes;
    const got = await command('so changes', () => this.#redis.zrangebyscore(z, `(${seen}`, '+inf', 'WITHSCORES'));
    const ids: string[] = [];
    let seq = seen;
    for (let i = 0; i < got.length; i += 2) {
      ids.push(got[i]!);
      seq = Math.max(seq, Number(got[i + 1]));
    }
    return { seq, ids };
  }
  async list(): Promise<readonly SoRecord[]> {
    const all = await command('so list', () => this.#redis.hvals(this.#recs));
    return all.map((r) => JSON.parse(r) as SoRecord).sort((a, b) => a.created - b.created || a.id.localeCompare(b.id));
  }
  async count(owner: string): Promise<number> {
    return Number((await command('so count', () => this.#redis.hget(this.#counts, owner))) ?? 0);
  }
  async grants(so: string): Promise<readonly Grant[]> {
    return (await command('so grants', () => this.#redis.smembers(this.#grants(so)))).sort().map(grantOf);
  }
  async addGrant(so: string, grant: Grant): Promise<boolean> {
    return (await command('so grant', () => this.#redis.sadd(this.#grants(so), grantKey(grant)))) > 0;
  }
  async removeGrant(so: string, grant: Grant): Promise<boolean> {
    return (await command('so revoke', () => this.#redis.srem(this.#grants(so), grantKey(grant)))) > 0;
  }
}
