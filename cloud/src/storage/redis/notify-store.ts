/**
 * @module The notifier's store on Redis (scale-out; docs/notifications.md "Storage"), shared by every worker.
 * Channels and subscriptions are hashes of JSON; accepted events wait in an inbox hash (ordered by a sorted
 * set) until one worker fans them out; a delivery is a hash (its fixed part as JSON, its state fields beside
 * it) indexed by due time per priority lane and by owner and state. Every change of a delivery is one Lua
 * call (notify-fanout.lua, notify-step.lua), so two workers never both lease one delivery, and a key claimed
 * for de-duplication and the delivery it lets through are written together. All keys share the hash tag
 * `{notify}`: one cluster slot.
 */
import type {
  Channel,
  ChannelRoom,
  Delivery,
  DeliveryState,
  NotifyStore,
  Outcome,
  PlannedDelivery,
  Scope,
  StoredEvent,
  Subscription,
} from '../../notify/types.ts';
import { priorityRank } from '../../notify/types.ts';
import { StoreError } from '../errors.ts';
import { command, loadScript, runScript, type RedisClient } from './script.ts';

const FANOUT = loadScript('notify-fanout.lua');
const STEP = loadScript('notify-step.lua');

export interface RedisNotifyStoreOptions {
  readonly redis: RedisClient;
  /** Key prefix; default `ferry:`. No braces: the hash tag is the store's. */
  readonly prefix?: string;
}

type Fixed = Pick<Delivery, 'id' | 'owner' | 'channelId' | 'subscriptionId' | 'eventId' | 'priority' | 'createdAt' | 'message'>;

const ownerKey = (owner: string | undefined): string => owner ?? '';

export class RedisNotifyStore implements NotifyStore {
  readonly #redis: RedisClient;
  readonly #b: string;

  constructor(o: RedisNotifyStoreOptions) {
    const prefix = o.prefix ?? 'ferry:';
    if (/[{}]/.test(prefix)) throw new StoreError('FERRY_STORE_CONFIG', 'prefix must not contain { or }: the hash tag is the store');
    this.#redis = o.redis;
    this.#b = `${prefix}{notify}:`;
  }

  async putChannel(c: Channel): Promise<void> {
    await command('notify putChannel', () => this.#redis.hset(`${this.#b}ch`, c.id, JSON.stringify(c)));
  }
  async getChannel(id: string): Promise<Channel | undefined> {
    return parse<Channel>(await command('notify getChannel', () => this.#redis.hget(`${this.#b}ch`, id)));
  }
  async listChannels(scope: Scope): Promise<readonly Channel[]> {
    return inScope(await this.#all<Channel>('ch'), scope);
  }
  async deleteChannel(id: string): Promise<void> {
    await command('notify deleteChannel', () => this.#redis.hdel(`${this.#b}ch`, id));
  }
  async putSubscription(s: Subscription): Promise<void> {
    await command('notify putSubscription', () => this.#redis.hset(`${this.#b}sub`, s.id, JSON.stringify(s)));
  }
  async getSubscription(id: string): Promise<Subscription | undefined> {
    return parse<Subscription>(await command('notify getSubscription', () => this.#redis.hget(`${this.#b}sub`, id)));
  }
  async listSubscriptions(scope: Scope): Promise<readonly Subscription[]> {
    return inScope(await this.#all<Subscription>('sub'), scope);
  }
  async deleteSubscription(id: string): Promise<void> {
    await command('notify deleteSubscription', () => this.#redis.hdel(`${this.#b}sub`, id));
  }

  async accept(e: StoredEvent): Promise<void> {
    // Both or neither (MULTI, one slot): an event in the inbox hash but not in its order would never be fanned out.
    await command('notify accept', () =>
      this.#redis.multi().hsetnx(`${this.#b}inbox`, e.id, JSON.stringify(e)).zadd(`${this.#b}inboxq`, 'NX', e.at, e.id).exec(),
    );
  }
  async inbox(limit: number): Promise<readonly StoredEvent[]> {
    const ids = await command('notify inbox', () => this.#redis.zrange(`${this.#b}inboxq`, 0, limit - 1));
    if (ids.length === 0) return [];
    const bodies = await command('notify inbox', () => this.#redis.hmget(`${this.#b}inbox`, ...ids));
    return bodies.flatMap((b) => (b === null ? [] : [JSON.parse(b) as StoredEvent]));
  }

  async fanOut(eventId: string, planned: readonly PlannedDelivery[]): Promise<readonly string[]> {
    const args: (string | number)[] = [eventId];
    for (const { delivery: d, dedup } of planned) {
      const fixed: Fixed = {
        id: d.id,
        owner: d.owner,
        channelId: d.channelId,
        subscriptionId: d.subscriptionId,
        eventId: d.eventId,
        priority: d.priority,
        createdAt: d.createdAt,
        message: d.message,
      };
      args.push(d.id, ownerKey(d.owner), d.channelId, priorityRank(d.priority), d.createdAt, d.nextAt, JSON.stringify(fixed));
      args.push(dedup === undefined ? '' : `${d.subscriptionId}\n${dedup.key}`, dedup?.repeatMs ?? 0, d.message.event.at);
    }
    return (await runScript(this.#redis, FANOUT, [this.#b], args)) as string[];
  }

  async claim(now: number, leaseMs: number, limit: number, perChannel?: ChannelRoom): Promise<readonly Delivery[]> {
    const held = [...(perChannel?.held ?? [])].flat();
    const ids = (await runScript(this.#redis, STEP, [this.#b], ['claim', now, leaseMs, limit, perChannel?.max ?? limit, ...held])) as string[];
    return this.#many(ids);
  }

  async renew(ids: readonly string[], now: number, leaseMs: number): Promise<readonly string[]> {
    if (ids.length === 0) return [];
    return (await runScript(this.#redis, STEP, [this.#b], ['renew', now, leaseMs, ...ids])) as string[];
  }

  async settle(id: string, o: Outcome): Promise<void> {
    if (o.state === 'acked') await this.#move(id, 'sending', 'acked', o.at, o.at, '', '');
    else if (o.state === 'queued') await this.#move(id, 'sending', 'queued', o.nextAt, o.at, o.failed ? '+1' : '', o.error);
    else await this.#move(id, 'sending', 'dead', o.at, o.at, '+1', o.error);
  }

  async getDelivery(id: string): Promise<Delivery | undefined> {
    return (await this.#many([id]))[0];
  }

  async listDeliveries(scope: Scope, state: DeliveryState | undefined, limit: number): Promise<readonly Delivery[]> {
    const index =
      scope === 'all'
        ? state === undefined
          ? 'all'
          : `as:${state}`
        : state === undefined
          ? `od:${ownerKey(scope.owner)}`
          : `os:${ownerKey(scope.owner)}:${state}`;
    const ids = await command('notify listDeliveries', () => this.#redis.zrevrange(`${this.#b}${index}`, 0, limit - 1));
    return this.#many(ids);
  }

  async replay(id: string, now: number): Promise<boolean> {
    return (await this.#move(id, 'dead', 'queued', now, now, 'reset', '')) === 1;
  }

  async pendingCount(owner: string | undefined): Promise<number> {
    const o = ownerKey(owner);
    const [q, s] = await Promise.all(
      (['queued', 'sending'] as const).map((st) => command('notify pendingCount', () => this.#redis.zcard(`${this.#b}os:${o}:${st}`))),
    );
    return (q ?? 0) + (s ?? 0);
  }

  async prune(before: number): Promise<number> {
    let total = 0;
    for (;;) {
      const n = Number(await runScript(this.#redis, STEP, [this.#b], ['prune', before, 1000]));
      total += n;
      if (n < 1000) return total;
    }
  }

  #move(id: string, from: DeliveryState, to: DeliveryState, nextAt: number, now: number, attempts: string, error: string): Promise<number> {
    return runScript(this.#redis, STEP, [this.#b], ['move', id, from, to, nextAt, now, attempts, error]) as Promise<number>;
  }

  async #all<T>(hash: string): Promise<T[]> {
    const all = await command(`notify list ${hash}`, () => this.#redis.hvals(`${this.#b}${hash}`));
    return all.map((v) => JSON.parse(v) as T).sort((a, b) => ((a as { id: string }).id < (b as { id: string }).id ? -1 : 1));
  }

  async #many(ids: readonly string[]): Promise<Delivery[]> {
    if (ids.length === 0) return [];
    const rows = await command('notify deliveries', async () => {
      const p = this.#redis.pipeline();
      for (const id of ids) p.hgetall(`${this.#b}d:${id}`);
      return (await p.exec()) ?? [];
    });
    return rows.flatMap(([err, h]) => {
      const f = h as Record<string, string> | null;
      if (err !== null || f === null || f['base'] === undefined) return [];
      const fixed = JSON.parse(f['base']) as Fixed;
      const d: Delivery = {
        ...fixed,
        state: f['state'] as DeliveryState,
        attempts: Number(f['attempts'] ?? 0),
        nextAt: Number(f['nextAt']),
        updatedAt: Number(f['updatedAt']),
        ...(f['ackedAt'] !== undefined && { ackedAt: Number(f['ackedAt']) }),
        ...(f['lastError'] !== undefined && { lastError: f['lastError'] }),
      };
      return [d];
    });
  }
}

function parse<T>(v: string | null): T | undefined {
  return v === null ? undefined : (JSON.parse(v) as T);
}

function inScope<T extends { readonly owner: string | undefined }>(xs: readonly T[], scope: Scope): T[] {
  return scope === 'all' ? [...xs] : xs.filter((x) => x.owner === scope.owner);
}
