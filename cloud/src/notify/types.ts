/**
 * @module The notifier's shapes (docs/notifications.md): the one event it takes, channels (where a message
 * goes), subscriptions (which events go to which channel, rendered how), deliveries (one message to one
 * channel, acknowledged or dead) and the store port both backends implement (SQLite embedded, Redis
 * scale-out; stores.case.ts is their shared contract).
 */

export const PRIORITIES = ['low', 'normal', 'high'] as const;
export type Priority = (typeof PRIORITIES)[number];
export const priorityRank = (p: Priority): number => PRIORITIES.indexOf(p);

/**
 * What happened, as any part of the cloud tells it (commands, health, rules, composite streams, alarms).
 * `owner` undefined is a global event (the cloud's own), seen only by global subscriptions.
 */
export interface NotifyEvent {
  readonly owner?: string | undefined;
  /** 'device.offline', 'device.online', 'command.failed', 'command.expired', 'command.rejected', 'rule.output', 'so.output', 'alarm.raised', 'alarm.cleared', 'component.failing', ... */
  readonly kind: string;
  /** What it is about: a device id, a rule job, an alarm's (type, source), a component. */
  readonly source: string;
  /** Unix ms. */
  readonly at: number;
  readonly priority?: Priority;
  readonly data: Record<string, unknown>;
}

/** An accepted event: persisted with an id before anything is delivered. */
export interface StoredEvent extends NotifyEvent {
  readonly id: string;
}

export const CHANNEL_KINDS = ['mqtt', 'webhook', 'email'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

export interface MqttChannelConfig {
  /** Levels below `<prefix>/notify/<owner>/` (default `events`). */
  readonly topic: string;
}
export interface WebhookChannelConfig {
  readonly url: string;
  /** ms, per attempt. */
  readonly timeoutMs: number;
}
export interface EmailChannelConfig {
  readonly host: string;
  readonly port: number;
  /** TLS from the start (port 465); otherwise STARTTLS when the server offers it. */
  readonly secure: boolean;
  readonly user?: string | undefined;
  readonly from: string;
  readonly to: readonly string[];
  readonly timeoutMs: number;
}

export type ChannelConfig =
  | { readonly kind: 'mqtt'; readonly config: MqttChannelConfig }
  | { readonly kind: 'webhook'; readonly config: WebhookChannelConfig }
  | { readonly kind: 'email'; readonly config: EmailChannelConfig };

/** A channel as stored: the secret (webhook signing key, SMTP password) sealed under the master key. */
export type Channel = ChannelConfig & {
  readonly id: string;
  readonly owner: string | undefined;
  readonly name: string;
  readonly createdAt: number;
  /** Sealed bytes, base64 (never answered by the API). */
  readonly sealedSecret?: string | undefined;
};

export interface Template {
  readonly subject: string;
  readonly body: string;
}

export interface Subscription {
  readonly id: string;
  readonly owner: string | undefined;
  readonly channelId: string;
  /** Event kinds: exact ('device.offline'), a family ('device.*') or everything ('*'). */
  readonly kinds: readonly string[];
  /** A glob over the event source (`*` any run of characters); '*' for all. */
  readonly source: string;
  readonly minPriority: Priority;
  /** The delivery's priority (its lane); default the event's. */
  readonly priority?: Priority | undefined;
  readonly template: Template;
  /** Template of the de-duplication key; events of one subscription with the same key inside `repeatS` are sent once. */
  readonly dedupKey?: string | undefined;
  /** Quiet repeat interval, seconds (0: every event is sent). */
  readonly repeatS: number;
  readonly createdAt: number;
}

export const DELIVERY_STATES = ['queued', 'sending', 'acked', 'dead'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

export interface Message {
  readonly subject: string;
  readonly body: string;
  readonly event: StoredEvent;
}

/** One message to one channel: at-least-once, acknowledged per delivery. */
export interface Delivery {
  readonly id: string;
  readonly owner: string | undefined;
  readonly channelId: string;
  readonly subscriptionId: string;
  readonly eventId: string;
  readonly priority: Priority;
  readonly state: DeliveryState;
  /** Failed attempts so far. */
  readonly attempts: number;
  readonly lastError?: string | undefined;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** When it may next be tried (queued), or when its lease ends (sending). */
  readonly nextAt: number;
  readonly ackedAt?: number | undefined;
  readonly message: Message;
}

/** A delivery the fan-out wants made, with its de-duplication claim when its subscription has one. */
export interface PlannedDelivery {
  readonly delivery: Delivery;
  readonly dedup?: { readonly key: string; readonly repeatMs: number } | undefined;
}

/** How a sending attempt ended. */
export type Outcome =
  | { readonly state: 'acked'; readonly at: number }
  | { readonly state: 'queued'; readonly at: number; readonly nextAt: number; readonly error: string; readonly failed: boolean }
  | { readonly state: 'dead'; readonly at: number; readonly error: string };

/** How many deliveries of one channel a claim may take: `max` minus those `held` already. */
export interface ChannelRoom {
  readonly max: number;
  readonly held: ReadonlyMap<string, number>;
}

/** Scope of a listing: one owner's objects, the global ones (owner undefined), or every owner's ('all'). */
export type Scope = { readonly owner: string | undefined } | 'all';

/**
 * Where the notifier keeps everything. Every method may be asynchronous (Redis); every write is atomic on its
 * own, so a crash leaves each object before or after a step, never between.
 */
export interface NotifyStore {
  putChannel(c: Channel): Promise<void> | void;
  getChannel(id: string): Promise<Channel | undefined> | Channel | undefined;
  listChannels(scope: Scope): Promise<readonly Channel[]> | readonly Channel[];
  deleteChannel(id: string): Promise<void> | void;
  putSubscription(s: Subscription): Promise<void> | void;
  getSubscription(id: string): Promise<Subscription | undefined> | Subscription | undefined;
  listSubscriptions(scope: Scope): Promise<readonly Subscription[]> | readonly Subscription[];
  deleteSubscription(id: string): Promise<void> | void;

  /** Persists an accepted event (idempotent by id); it stays in the inbox until fanned out. */
  accept(e: StoredEvent): Promise<void> | void;
  /** Events accepted but not yet fanned out, oldest first. */
  inbox(limit: number): Promise<readonly StoredEvent[]> | readonly StoredEvent[];
  /**
   * In one step: drops the event from the inbox and queues its deliveries, each only if its id is new and its
   * de-duplication key was not claimed less than `repeatMs` before the event. Returns the ids queued. An event
   * no longer in the inbox (another worker took it) queues nothing.
   */
  fanOut(eventId: string, planned: readonly PlannedDelivery[]): Promise<readonly string[]> | readonly string[];
  /**
   * Leases up to `limit` deliveries due at `now` (queued with nextAt <= now, or sending past their lease),
   * high priority first, at most `perChannel.max` minus what the caller already holds (`perChannel.held`) of
   * any one channel, so a channel with a backlog never fills a claim: they become `sending` until
   * `now + leaseMs`.
   */
  claim(now: number, leaseMs: number, limit: number, perChannel?: ChannelRoom): Promise<readonly Delivery[]> | readonly Delivery[];
  /**
   * Extends to `now + leaseMs` the leases of those of `ids` still `sending` whose lease has not run out at
   * `now` (one that ran out may be another worker's by now); returns the ids renewed.
   */
  renew(ids: readonly string[], now: number, leaseMs: number): Promise<readonly string[]> | readonly string[];
  /** Records how an attempt ended; ignored unless the delivery is `sending` (an acked one stays acked). */
  settle(id: string, o: Outcome): Promise<void> | void;
  getDelivery(id: string): Promise<Delivery | undefined> | Delivery | undefined;
  /** Newest first. */
  listDeliveries(scope: Scope, state: DeliveryState | undefined, limit: number): Promise<readonly Delivery[]> | readonly Delivery[];
  /** A dead letter queued again with its attempts reset; false when it is not dead. */
  replay(id: string, now: number): Promise<boolean> | boolean;
  /** Queued and in-flight deliveries of an owner (its bound). */
  pendingCount(owner: string | undefined): Promise<number> | number;
  /** Forgets acknowledged deliveries acknowledged before `before`; returns how many. */
  prune(before: number): Promise<number> | number;
}

/** Counters since start (the metrics). */
export interface NotifyCounters {
  accepted: number;
  refused: number;
  queued: number;
  suppressed: number;
  dropped: number;
  acked: number;
  retried: number;
  dead: number;
}
