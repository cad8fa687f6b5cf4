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
      const args = [
        raw ?? '',
        changed ? JSON.stringify(step.next) : '',
        due === undefined ? '' : due,
        device,
        `${this.#p}i:`,
        `${this.#p}d:`,
        Math.ceil(FINISHED_RETENTION_MS / 1000),
        live.length,
        ...live,
        ...step.finished.flatMap((r) => [r.id, JSON.stringify(r)]),
      ];
      if ((await runScript(this.#redis, CAS, [`${this.#p}q:${device}`, `${this.#p}due`], args)) === 1) return step;
    }
    throw new StoreError('FERRY_STORE_UNAVAILABLE', `command queue of ${device}: changed by others ${MAX_RACES} times in a row`);
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
    await command('broadcast put', () => this.#redis.set(`${this.#p}b:${b.id}`, JSON.stringify(b), 'PX', FINISHED_RETENTION_MS));
  }

  async broadcast(id: string): Promise<BroadcastRecord | undefined> {
    const raw = await command('broadcast get', () => this.#redis.get(`${this.#p}b:${id}`));
    return raw === null ? undefined : (JSON.parse(raw) as BroadcastRecord);
  }

  async prune(_now: number): Promise<void> {
    // Finished commands and broadcasts carry their own expiry in Redis.
  }
}
