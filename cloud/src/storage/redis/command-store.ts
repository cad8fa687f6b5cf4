/**
 * @module The command store on Redis (scale-out; docs/storage.md): a device's queue is one JSON string
 * changed by compare-and-set (command-cas.lua), so every worker may send to any device and the (ep, sq)
 * counter in the queue only grows; beside it the id index, finished commands and broadcasts (expiring after
 * the retention) and the due index, a sorted set of devices by their next sweep. Single Redis (the script
 * writes keys it derives); a lost race is read and run again.
 */
import { emptyQueue, nextDue, type CommandRecord, type DeviceQueue, type Step } from '../../commands/model.ts';
import { FINISHED_RETENTION_MS, type BroadcastRecord, type CommandStore } from '../../commands/store.ts';
import { StoreError } from '../errors.ts';
import { command, loadScript, runScript, type RedisClient } from './script.ts';

const CAS = loadScript('command-cas.lua');
/** Attempts of one update against workers changing the same queue at once. */
const MAX_RACES = 50;

export class RedisCommandStore implements CommandStore {
  readonly #redis: RedisClient;
  readonly #p: string;

  constructor(o: { readonly redis: RedisClient; readonly prefix?: string }) {
    this.#redis = o.redis;
    this.#p = `${o.prefix ?? 'ferry:'}cmd:`;
  }

  async #raw(device: string): Promise<string | null> {
    return command('command queue', () => this.#redis.get(`${this.#p}q:${device}`));
  }

  async update<T>(device: string, f: (q: DeviceQueue) => Step<T>): Promise<Step<T>> {
    for (let i = 0; i < MAX_RACES; i++) {
      const raw = await this.#raw(device);
      const before = raw === null ? emptyQueue(device) : (JSON.parse(raw) as DeviceQueue);
      const step = f(before);
      const changed = step.next !== before;
      const due = changed ? nextDue(step.next) : undefined;
      const live = changed ? step.next.live.map((r) => r.id) : [];
      // New commands go into the list index in the same script as the queue (a worker that died in between
      // would leave a command kept and delivered but missing from the lists).
      const known = new Set(before.live.map((r) => r.id));
      const made = changed ? step.next.live.filter((r) => !known.has(r.id)) : [];
      const args = [
        raw ?? '',
        changed ? JSON.stringify(step.next) : '',
        due === undefined ? '' : due,
        device,
        `${this.#p}i:`,
        `${this.#p}d:`,
        Math.ceil(FINISHED_RETENTION_MS / 1000),
        this.#p,
        live.length,
        ...live,
        made.length,
        ...made.flatMap((r) => [r.id, r.owner ?? '', r.createdAt]),
        ...step.finished.flatMap((r) => [r.id, JSON.stringify(r)]),
      ];
      if ((await runScript(this.#redis, CAS, [`${this.#p}q:${device}`, `${this.#p}due`], args)) === 1) return step;
    }
    throw new StoreError('FERRY_STORE_UNAVAILABLE', `command queue of ${device}: changed by others ${MAX_RACES} times in a row`);
  }

  async recent(owner: string | null, limit: number, device?: string): Promise<string[]> {
    if (device === undefined)
      return command('command list', () => this.#redis.zrevrange(owner === null ? `${this.#p}o*` : `${this.#p}o:${owner}`, 0, limit - 1));
    // By device, then the owner's only: a device keeps its owner, so this filters nothing out in practice.
    const ids = await command('command list', () => this.#redis.zrevrange(`${this.#p}od:${device}`, 0, limit - 1));
    if (owner === null) return ids;
    const mine = await command('command list', () => this.#redis.zmscore(`${this.#p}o:${owner}`, ...(ids.length > 0 ? ids : [''])));
    return ids.filter((_, i) => mine[i] !== null);
  }

  async broadcasts(owner: string | null, limit: number): Promise<BroadcastRecord[]> {
    const ids = await command('broadcast list', () => this.#redis.zrevrange(owner === null ? `${this.#p}ob*` : `${this.#p}ob:${owner}`, 0, limit - 1));
    const raws = ids.length === 0 ? [] : await command('broadcast list', () => this.#redis.mget(...ids.map((id) => `${this.#p}b:${id}`)));
    return raws.flatMap((r) => (r === null ? [] : [JSON.parse(r) as BroadcastRecord]));
  }

  async queue(device: string): Promise<DeviceQueue> {
    const raw = await this.#raw(device);
    return raw === null ? emptyQueue(device) : (JSON.parse(raw) as DeviceQueue);
  }

  async get(id: string): Promise<CommandRecord | undefined> {
    const done = await command('command get', () => this.#redis.get(`${this.#p}d:${id}`));
    if (done !== null) return JSON.parse(done) as CommandRecord;
    const device = await command('command index', () => this.#redis.get(`${this.#p}i:${id}`));
    return device === null ? undefined : (await this.queue(device)).live.find((r) => r.id === id);
  }

  async due(now: number, limit: number): Promise<string[]> {
    return command('command due', () => this.#redis.zrangebyscore(`${this.#p}due`, '-inf', now, 'LIMIT', 0, limit));
  }

  async putBroadcast(b: BroadcastRecord): Promise<void> {
    const old = b.createdAt - FINISHED_RETENTION_MS;
    const m = this.#redis.multi().set(`${this.#p}b:${b.id}`, JSON.stringify(b), 'PX', FINISHED_RETENTION_MS);
    for (const key of [`${this.#p}ob:${b.owner ?? ''}`, `${this.#p}ob*`])
      m.zadd(key, b.createdAt, b.id).zremrangebyscore(key, '-inf', old).pexpire(key, FINISHED_RETENTION_MS);
    await command('broadcast put', () => m.exec());
  }

  async broadcast(id: string): Promise<BroadcastRecord | undefined> {
    const raw = await command('broadcast get', () => this.#redis.get(`${this.#p}b:${id}`));
    return raw === null ? undefined : (JSON.parse(raw) as BroadcastRecord);
  }

  async prune(_now: number): Promise<void> {
    // Finished commands and broadcasts carry their own expiry in Redis.
  }
}
