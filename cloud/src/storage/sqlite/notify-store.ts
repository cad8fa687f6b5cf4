/**
 * @module The notifier's store on SQLite (embedded; docs/notifications.md "Storage"): channels,
 * subscriptions, the inbox of accepted events, deliveries and de-duplication claims, in tables `notify_*` of
 * cloud.db. Each write is one statement or one transaction, so a crash leaves every delivery before or after
 * a step. A delivery's row holds its JSON beside the columns its queries use. The global scope (no owner) is
 * the empty owner: owner ids are never empty.
 */
import type Database from 'better-sqlite3';
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
import { replayed, settled } from '../../notify/lifecycle.ts';

type Db = Database.Database;
interface Body {
  body: string;
}

const ownerCol = (owner: string | undefined): string => owner ?? '';

export class SqliteNotifyStore implements NotifyStore {
  readonly #db: Db;
  readonly #q;

  constructor(db: Db) {
    this.#db = db;
    db.exec(`
CREATE TABLE IF NOT EXISTS notify_channels (id TEXT PRIMARY KEY, owner TEXT NOT NULL, body TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS notify_subscriptions (id TEXT PRIMARY KEY, owner TEXT NOT NULL, channel TEXT NOT NULL, body TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS notify_inbox (id TEXT PRIMARY KEY, at INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS notify_deliveries (
  id TEXT PRIMARY KEY, owner TEXT NOT NULL, channel TEXT NOT NULL, state TEXT NOT NULL, prio INTEGER NOT NULL, next_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL, acked_at INTEGER, body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notify_due ON notify_deliveries (state, prio DESC, next_at) WHERE state IN ('queued', 'sending');
CREATE INDEX IF NOT EXISTS notify_by_owner ON notify_deliveries (owner, created_at);
CREATE INDEX IF NOT EXISTS notify_by_state ON notify_deliveries (owner, state, created_at);
CREATE TABLE IF NOT EXISTS notify_dedup (sub TEXT NOT NULL, key TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (sub, key)) WITHOUT ROWID;`);
    this.#q = {
      putChannel: db.prepare<[string, string, string]>(
        'INSERT INTO notify_channels (id, owner, body) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, body = excluded.body',
      ),
      getChannel: db.prepare<[string], Body>('SELECT body FROM notify_channels WHERE id = ?'),
      channelsOf: db.prepare<[string], Body>('SELECT body FROM notify_channels WHERE owner = ? ORDER BY id'),
      channels: db.prepare<[], Body>('SELECT body FROM notify_channels ORDER BY id'),
      deleteChannel: db.prepare<[string]>('DELETE FROM notify_channels WHERE id = ?'),
      putSub: db.prepare<[string, string, string, string]>(
        'INSERT INTO notify_subscriptions (id, owner, channel, body) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body',
      ),
      getSub: db.prepare<[string], Body>('SELECT body FROM notify_subscriptions WHERE id = ?'),
      subsOf: db.prepare<[string], Body>('SELECT body FROM notify_subscriptions WHERE owner = ? ORDER BY id'),
      subs: db.prepare<[], Body>('SELECT body FROM notify_subscriptions ORDER BY id'),
      deleteSub: db.prepare<[string]>('DELETE FROM notify_subscriptions WHERE id = ?'),
      accept: db.prepare<[string, number, string]>('INSERT OR IGNORE INTO notify_inbox (id, at, body) VALUES (?, ?, ?)'),
      inbox: db.prepare<[number], Body>('SELECT body FROM notify_inbox ORDER BY at, rowid LIMIT ?'),
      take: db.prepare<[string]>('DELETE FROM notify_inbox WHERE id = ?'),
      dedup: db.prepare<[string, string], { at: number }>('SELECT at FROM notify_dedup WHERE sub = ? AND key = ?'),
      claimKey: db.prepare<[string, string, number]>(
        'INSERT INTO notify_dedup (sub, key, at) VALUES (?, ?, ?) ON CONFLICT (sub, key) DO UPDATE SET at = excluded.at',
      ),
      insert: db.prepare<[string, string, string, string, number, number, number, string]>(
        'INSERT OR IGNORE INTO notify_deliveries (id, owner, channel, state, prio, next_at, created_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      // Each channel's due deliveries numbered in claim order, so a claim takes only the first few of each.
      due: db.prepare<[number, number, number], Body & { channel: string; rn: number }>(
        `SELECT body, channel, rn FROM (
           SELECT body, channel, prio, next_at, ROW_NUMBER() OVER (PARTITION BY channel ORDER BY prio DESC, next_at) AS rn
           FROM notify_deliveries WHERE state IN ('queued', 'sending') AND next_at <= ?)
         WHERE rn <= ? ORDER BY prio DESC, next_at LIMIT ?`,
      ),
      get: db.prepare<[string], Body>('SELECT body FROM notify_deliveries WHERE id = ?'),
      update: db.prepare<[string, number, number | null, string, string]>(
        'UPDATE notify_deliveries SET state = ?, next_at = ?, acked_at = ?, body = ? WHERE id = ?',
      ),
      listOwner: db.prepare<[string, number], Body>('SELECT body FROM notify_deliveries WHERE owner = ? ORDER BY created_at DESC, rowid DESC LIMIT ?'),
      listOwnerState: db.prepare<[string, string, number], Body>(
        'SELECT body FROM notify_deliveries WHERE owner = ? AND state = ? ORDER BY created_at DESC, rowid DESC LIMIT ?',
      ),
      listAll: db.prepare<[number], Body>('SELECT body FROM notify_deliveries ORDER BY created_at DESC, rowid DESC LIMIT ?'),
      listAllState: db.prepare<[string, number], Body>('SELECT body FROM notify_deliveries WHERE state = ? ORDER BY created_at DESC, rowid DESC LIMIT ?'),
      pending: db.prepare<[string], { n: number }>("SELECT count(*) AS n FROM notify_deliveries WHERE owner = ? AND state IN ('queued', 'sending')"),
      prune: db.prepare<[number]>("DELETE FROM notify_deliveries WHERE state = 'acked' AND acked_at < ?"),
    };
  }

  putChannel(c: Channel): void {
    this.#q.putChannel.run(c.id, ownerCol(c.owner), JSON.stringify(c));
  }
  getChannel(id: string): Channel | undefined {
    return parse<Channel>(this.#q.getChannel.get(id));
  }
  listChannels(scope: Scope): readonly Channel[] {
    return (scope === 'all' ? this.#q.channels.all() : this.#q.channelsOf.all(ownerCol(scope.owner))).map((r) => JSON.parse(r.body) as Channel);
  }
  deleteChannel(id: string): void {
    this.#q.deleteChannel.run(id);
  }
  putSubscription(s: Subscription): void {
    this.#q.putSub.run(s.id, ownerCol(s.owner), s.channelId, JSON.stringify(s));
  }
  getSubscription(id: string): Subscription | undefined {
    return parse<Subscription>(this.#q.getSub.get(id));
  }
  listSubscriptions(scope: Scope): readonly Subscription[] {
    return (scope === 'all' ? this.#q.subs.all() : this.#q.subsOf.all(ownerCol(scope.owner))).map((r) => JSON.parse(r.body) as Subscription);
  }
  deleteSubscription(id: string): void {
    this.#q.deleteSub.run(id);
  }

  accept(e: StoredEvent): void {
    this.#q.accept.run(e.id, e.at, JSON.stringify(e));
  }
  inbox(limit: number): readonly StoredEvent[] {
    return this.#q.inbox.all(limit).map((r) => JSON.parse(r.body) as StoredEvent);
  }

  fanOut(eventId: string, planned: readonly PlannedDelivery[]): readonly string[] {
    return this.#db
      .transaction((): string[] => {
        if (this.#q.take.run(eventId).changes === 0) return [];
        const queued: string[] = [];
        for (const { delivery: d, dedup } of planned) {
          if (dedup !== undefined) {
            const last = this.#q.dedup.get(d.subscriptionId, dedup.key)?.at;
            if (last !== undefined && d.message.event.at < last + dedup.repeatMs) continue;
            this.#q.claimKey.run(d.subscriptionId, dedup.key, d.message.event.at);
          }
          const r = this.#q.insert.run(d.id, ownerCol(d.owner), d.channelId, d.state, priorityRank(d.priority), d.nextAt, d.createdAt, JSON.stringify(d));
          if (r.changes > 0) queued.push(d.id);
        }
        return queued;
      })
      .immediate();
  }

  claim(now: number, leaseMs: number, limit: number, perChannel?: ChannelRoom): readonly Delivery[] {
    const max = perChannel?.max ?? limit;
    return this.#db
      .transaction((): Delivery[] =>
        this.#q.due
          .all(now, max, limit + (perChannel?.held.size ?? 0) * max)
          .filter((r) => r.rn <= max - (perChannel?.held.get(r.channel) ?? 0))
          .slice(0, limit)
          .map((r) => {
            const d: Delivery = { ...(JSON.parse(r.body) as Delivery), state: 'sending', nextAt: now + leaseMs, updatedAt: now };
            this.#q.update.run('sending', d.nextAt, null, JSON.stringify(d), d.id);
            return d;
          }),
      )
      .immediate();
  }

  renew(ids: readonly string[], now: number, leaseMs: number): readonly string[] {
    return this.#db
      .transaction((): string[] =>
        ids.filter((id) => {
          const d = parse<Delivery>(this.#q.get.get(id));
          if (d === undefined || d.state !== 'sending' || d.nextAt <= now) return false;
          const next: Delivery = { ...d, nextAt: now + leaseMs };
          this.#q.update.run('sending', next.nextAt, null, JSON.stringify(next), id);
          return true;
        }),
      )
      .immediate();
  }

  settle(id: string, o: Outcome): void {
    this.#db
      .transaction(() => {
        const d = parse<Delivery>(this.#q.get.get(id));
        if (d === undefined || d.state !== 'sending') return;
        const next = settled(d, o);
        this.#q.update.run(next.state, next.nextAt, next.ackedAt ?? null, JSON.stringify(next), id);
      })
      .immediate();
  }

  getDelivery(id: string): Delivery | undefined {
    return parse<Delivery>(this.#q.get.get(id));
  }

  listDeliveries(scope: Scope, state: DeliveryState | undefined, limit: number): readonly Delivery[] {
    const rows =
      scope === 'all'
        ? state === undefined
          ? this.#q.listAll.all(limit)
          : this.#q.listAllState.all(state, limit)
        : state === undefined
          ? this.#q.listOwner.all(ownerCol(scope.owner), limit)
          : this.#q.listOwnerState.all(ownerCol(scope.owner), state, limit);
    return rows.map((r) => JSON.parse(r.body) as Delivery);
  }

  replay(id: string, now: number): boolean {
    return this.#db
      .transaction((): boolean => {
        const d = parse<Delivery>(this.#q.get.get(id));
        if (d === undefined || d.state !== 'dead') return false;
        const next = replayed(d, now);
        this.#q.update.run(next.state, next.nextAt, null, JSON.stringify(next), id);
        return true;
      })
      .immediate();
  }

  pendingCount(owner: string | undefined): number {
    return this.#q.pending.get(ownerCol(owner))?.n ?? 0;
  }

  prune(before: number): number {
    return this.#q.prune.run(before).changes;
  }
}

function parse<T>(row: Body | undefined): T | undefined {
  return row === undefined ? undefined : (JSON.parse(row.body) as T);
}
