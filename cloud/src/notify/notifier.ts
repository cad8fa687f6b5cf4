/**
 * @module The notifier (docs/notifications.md): `notify(event)` persists the event first and returns at
 * once; a loop then fans each accepted event out into deliveries (one per matching subscription, rendered,
 * de-duplicated) and sends them through their channels, each attempt leased so that a worker that dies
 * mid-send leaves the delivery due again (at-least-once), an acknowledged one never sent again. Failures are
 * retried with exponential back-off and jitter up to `maxAttempts`, then kept as dead letters to inspect and
 * replay. Deliveries run concurrently with a cap per channel, so a slow or failing channel never holds up the
 * others.
 */
import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { backoffDelay, systemClock, type Clock } from '@ferry/base';
import type { SecretSealer } from '../functions/tokens/sealed-secret.ts';
import { EmailSender } from './channel-email.ts';
import { notifyTopic, publishAcked } from './channel-mqtt.ts';
import { postWebhook } from './channel-webhook.ts';
import { openSecret } from './config.ts';
import { NotifyError } from './errors.ts';
import { fanOutInbox, sha } from './fan-out.ts';
import { checkEvent, NOTIFY_LIMITS } from './event.ts';

export { checkEvent, NOTIFY_LIMITS } from './event.ts';
import type { Channel, Delivery, Message, NotifyCounters, NotifyEvent, NotifyStore, StoredEvent } from './types.ts';

export interface RetryPolicy {
  /** Attempts before a delivery becomes a dead letter. */
  readonly maxAttempts: number;
  readonly initialMs: number;
  readonly maxMs: number;
}
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, initialMs: 1000, maxMs: 300_000 };

export interface NotifierOptions {
  readonly store: NotifyStore;
  readonly sealer: SecretSealer;
  readonly prefix: string;
  /** The cloud's own MQTT connection (MQTT channels publish on it). */
  readonly mqtt: () => MqttClient | undefined;
  /** Let channels reach private, loopback and link-local addresses (labs and tests); off by default. */
  readonly allowPrivateAddresses?: boolean;
  readonly retry?: Partial<RetryPolicy>;
  /**
   * How long a claim holds its deliveries before another worker may take them (default 10 s). The worker renews
   * the lease of each delivery it holds every third of this, so an attempt may run longer (a channel's timeout
   * goes up to 30 s); a worker that died leaves its deliveries due again within this time.
   */
  readonly leaseMs?: number;
  readonly tickMs?: number;
  /** Acknowledged deliveries are kept this long (ms), then pruned. */
  readonly keepAckedMs?: number;
  readonly clock?: Clock;
  readonly log?: (msg: string) => void;
}

export type { NotifyCounters } from './types.ts';

/** Leased deliveries that may wait here for a slot of their channel. */
const WAITING_PER_CHANNEL = 4 * NOTIFY_LIMITS.inFlightPerChannel;
/** A waiting delivery whose lease has less than this left is left to be claimed again instead. */
const LEASE_MARGIN_MS = 1000;
export const DEFAULT_LEASE_MS = 10_000;

export class Notifier {
  readonly store: NotifyStore;
  readonly counters: NotifyCounters = { accepted: 0, refused: 0, queued: 0, suppressed: 0, dropped: 0, acked: 0, retried: 0, dead: 0 };
  readonly #o: NotifierOptions;
  readonly #retry: RetryPolicy;
  readonly #leaseMs: number;
  readonly #clock: Clock;
  readonly #email: EmailSender;
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #perChannel = new Map<string, number>();
  /** Leased deliveries waiting for a slot of their channel. */
  readonly #waiting = new Map<string, Delivery[]>();
  #waitingCount = 0;
  /** When the lease of each delivery this worker holds (sending or waiting) ends. */
  readonly #leases = new Map<string, number>();
  #lastRenew = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = true; // until start(): events are kept, nothing is sent
  #lastPrune = 0;

  constructor(o: NotifierOptions) {
    this.#o = o;
    this.store = o.store;
    this.#retry = { ...DEFAULT_RETRY, ...o.retry };
    this.#leaseMs = o.leaseMs ?? DEFAULT_LEASE_MS;
    this.#clock = o.clock ?? systemClock;
    this.#email = new EmailSender({ allowPrivate: o.allowPrivateAddresses === true });
  }

  /** Deliveries sending now or leased and waiting for a slot. */
  get inFlight(): number {
    return this.#inFlight.size + this.#waitingCount;
  }

  /** Seals and opens channel secrets (the API's channel routes seal with it too). */
  get sealer(): SecretSealer {
    return this.#o.sealer;
  }

  get allowPrivateAddresses(): boolean {
    return this.#o.allowPrivateAddresses === true;
  }

  /**
   * Tells the notifier something happened. Never throws and never waits: a malformed event is counted and
   * logged; a store that fails is logged. Use `accept` to wait for the event to be persisted.
   */
  notify(e: NotifyEvent): void {
    try {
      this.accept(e).catch((err: unknown) => this.#log(`notify: event ${e.kind} from ${e.source} not kept: ${String(err)}`));
    } catch (err) {
      this.#log(`notify: ${String(err)}`);
    }
  }

  /** Checks and persists an event; resolves once it is stored (then it will be delivered, restart or not). */
  async accept(e: NotifyEvent): Promise<StoredEvent> {
    let stored: StoredEvent;
    try {
      stored = checkEvent(e, randomUUID());
    } catch (err) {
      this.counters.refused++;
      throw err;
    }
    await this.store.accept(stored);
    this.counters.accepted++;
    this.kick();
    return stored;
  }

  /** Starts the loop (and first delivers what a previous run left: the inbox and due deliveries). */
  start(): void {
    this.#stopped = false;
    this.#timer = setInterval(() => this.kick(), this.#o.tickMs ?? 250);
    this.#timer.unref();
    this.kick();
  }

  /** Runs one round soon (coalesced with one already running). */
  kick(): void {
    if (this.#stopped) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    this.#running = this.#round()
      .catch((err: unknown) => this.#log(`notify: ${String(err)}`))
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.kick();
        }
      });
  }

  /** Waits until the inbox is fanned out and nothing is in flight (tests, benches). */
  async idle(): Promise<void> {
    for (;;) {
      await this.#running;
      await Promise.all(this.#inFlight.values());
      if (this.#running === undefined && this.#inFlight.size === 0) return;
    }
  }

  /**
   * Stops the loop; attempts in flight finish (or time out) first, so none is left half recorded, and the
   * deliveries waiting here for a slot are handed back, due at once for the next worker or start.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#running;
    const waiting = [...this.#waiting.values()].flat();
    this.#waiting.clear();
    this.#waitingCount = 0;
    const now = this.#clock.now();
    for (const d of waiting) {
      this.#leases.delete(d.id);
      try {
        await this.store.settle(d.id, { state: 'queued', at: now, nextAt: now, error: d.lastError ?? '', failed: false });
      } catch (err) {
        this.#log(`notify: delivery ${d.id} not handed back (due again when its lease ends): ${String(err)}`);
      }
    }
    await Promise.all(this.#inFlight.values());
    this.#email.close();
  }

  /** Sends one message to a channel now, outside the delivery queue (POST /api/v1/notify/test); throws its error. */
  async sendNow(c: Channel, deliveryId: string, m: Message): Promise<void> {
    const now = this.#clock.now();
    const allowPrivate = this.allowPrivateAddresses;
    switch (c.kind) {
      case 'webhook': {
        const secret = openSecret(this.#o.sealer, c);
        if (secret === undefined) throw new NotifyError('FERRY_NOTIFY_SECRET', `channel ${c.id} has no secret`);
        return postWebhook(c.config, secret, deliveryId, m, { nowS: Math.floor(now / 1000), allowPrivate });
      }
      case 'email':
        return this.#email.send(`${c.id}/${sha(JSON.stringify(c))}`, c.config, openSecret(this.#o.sealer, c), deliveryId, m);
      case 'mqtt':
        return publishAcked(this.#o.mqtt(), notifyTopic(this.#o.prefix, c.owner, c.config), deliveryId, m);
    }
  }

  async #round(): Promise<void> {
    await this.#renew();
    await fanOutInbox(this.store, this.counters, (m) => this.#log(m));
    await this.#dispatch();
    const now = this.#clock.now();
    if (now - this.#lastPrune > 3_600_000) {
      this.#lastPrune = now;
      await this.store.prune(now - (this.#o.keepAckedMs ?? 7 * 86_400_000));
    }
  }

  /** Every third of a lease, extends the leases of the deliveries this worker holds (sending or waiting). */
  async #renew(): Promise<void> {
    const now = this.#clock.now();
    if (this.#leases.size === 0 || now - this.#lastRenew < this.#leaseMs / 3) return;
    this.#lastRenew = now;
    const ids = [...this.#leases.keys()];
    let renewed: ReadonlySet<string>;
    try {
      renewed = new Set(await this.store.renew(ids, now, this.#leaseMs));
    } catch (err) {
      this.#log(`notify: leases not renewed: ${String(err)}`);
      return;
    }
    for (const id of ids) {
      if (!this.#leases.has(id)) continue; // settled meanwhile
      if (renewed.has(id)) this.#leases.set(id, now + this.#leaseMs);
      // Its lease ran out (another worker may hold it now): if it waits for a slot here, #next drops it.
      else if (!this.#inFlight.has(id)) this.#leases.set(id, 0);
    }
  }

  async #dispatch(): Promise<void> {
    const room = NOTIFY_LIMITS.inFlight - this.#inFlight.size - this.#waitingCount;
    if (room <= 0) return;
    const now = this.#clock.now();
    const held = new Map(this.#perChannel);
    for (const [c, q] of this.#waiting) held.set(c, (held.get(c) ?? 0) + q.length);
    const claimed = await this.store.claim(now, this.#leaseMs, room, { max: NOTIFY_LIMITS.inFlightPerChannel + WAITING_PER_CHANNEL, held });
    for (const d of claimed) {
      this.#leases.set(d.id, d.nextAt);
      if ((this.#perChannel.get(d.channelId) ?? 0) < NOTIFY_LIMITS.inFlightPerChannel) {
        this.#run(d);
        continue;
      }
      // The channel has enough in flight: the delivery waits here for a slot (it stays leased to this worker);
      // the claim took no more than the queue holds, but should it, the rest go back with no attempt counted.
      const queue = this.#waiting.get(d.channelId) ?? [];
      if (queue.length < WAITING_PER_CHANNEL) {
        queue.push(d);
        this.#waiting.set(d.channelId, queue);
        this.#waitingCount++;
      } else {
        this.#leases.delete(d.id);
        await this.store.settle(d.id, { state: 'queued', at: now, nextAt: now + 250, error: d.lastError ?? '', failed: false });
      }
    }
  }

  #run(d: Delivery): void {
    this.#perChannel.set(d.channelId, (this.#perChannel.get(d.channelId) ?? 0) + 1);
    const p = this.#attempt(d).finally(() => {
      this.#inFlight.delete(d.id);
      this.#leases.delete(d.id);
      const n = (this.#perChannel.get(d.channelId) ?? 1) - 1;
      if (n <= 0) this.#perChannel.delete(d.channelId);
      else this.#perChannel.set(d.channelId, n);
      this.#next(d.channelId);
      // Claim more once this channel's queue runs low (not after every attempt: a claim costs a scan).
      if ((this.#waiting.get(d.channelId)?.length ?? 0) <= WAITING_PER_CHANNEL / 2) this.kick();
    });
    this.#inFlight.set(d.id, p);
  }

  /** Starts the next delivery waiting for a slot of `channelId`, skipping those whose lease ran out meanwhile (another worker may hold them now). */
  #next(channelId: string): void {
    const queue = this.#waiting.get(channelId);
    const now = this.#clock.now();
    while (queue !== undefined && queue.length > 0) {
      const d = queue.shift()!;
      this.#waitingCount--;
      if (queue.length === 0) this.#waiting.delete(channelId);
      if ((this.#leases.get(d.id) ?? 0) > now + LEASE_MARGIN_MS) {
        this.#run(d);
        return;
      }
      this.#leases.delete(d.id);
    }
  }

  async #attempt(d: Delivery): Promise<void> {
    let error: NotifyError | undefined;
    try {
      const c = await this.store.getChannel(d.channelId);
      if (c === undefined) throw new NotifyError('FERRY_NOTIFY_CHANNEL_GONE', `channel ${d.channelId} was deleted`);
      await this.sendNow(c, d.id, d.message);
    } catch (e) {
      error = e instanceof NotifyError ? e : new NotifyError('FERRY_NOTIFY_WEBHOOK', e instanceof Error ? e.message : String(e));
    }
    const at = this.#clock.now();
    try {
      if (error === undefined) {
        await this.store.settle(d.id, { state: 'acked', at });
        this.counters.acked++;
        return;
      }
      const message = `${error.code}: ${error.message}`.slice(0, 512);
      // Retrying cannot help these: the channel is gone, its secret unreadable, or its address refused.
      const permanent = error.code === 'FERRY_NOTIFY_CHANNEL_GONE' || error.code === 'FERRY_NOTIFY_SECRET' || error.code === 'FERRY_NOTIFY_ADDRESS';
      if (permanent || d.attempts + 1 >= this.#retry.maxAttempts) {
        await this.store.settle(d.id, { state: 'dead', at, error: message });
        this.counters.dead++;
        this.#log(`notify: delivery ${d.id} to channel ${d.channelId} is a dead letter after ${d.attempts + 1} attempts: ${message}`);
        return;
      }
      // Full jitter on the upper half, so deliveries failed together do not retry together.
      const delay = backoffDelay(d.attempts, { initialMs: this.#retry.initialMs, maxMs: this.#retry.maxMs }) * (0.5 + Math.random() / 2);
      await this.store.settle(d.id, { state: 'queued', at, nextAt: at + Math.round(delay), error: message, failed: true });
      this.counters.retried++;
    } catch (e) {
      // The outcome was not recorded: the lease runs out and the delivery is tried again (at-least-once).
      this.#log(`notify: delivery ${d.id}: outcome not recorded: ${String(e)}`);
    }
  }

  #log(m: string): void {
    this.#o.log?.(m);
  }
}
