/**
 * @module The gateway's MQTT uplink: drains the outbox in order with QoS 1 and deletes each reading only
 * when the broker acknowledged it (PUBACK). Announces itself with a retained status topic: "online" on
 * connect, and "offline" as the last will, which the broker publishes if the gateway dies or loses its
 * link (MQTT 3.1.1 §3.1.2.5). Delivery is at-least-once: a reading in flight when the link drops is sent
 * again; receivers de-duplicate on (kid, ep, sq).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { noDelay } from '@ferry/mqtt-rest';
import type { Outbox, OutboxEntry } from './outbox.ts';

export interface UplinkOptions {
  readonly url: string;
  readonly gatewayId: string;
  /** The topic prefix (the uplink's `topic_prefix`, default `ferry`): the status topic lives under it. */
  readonly prefix?: string | undefined;
  readonly outbox: Outbox;
  /** Readings published but not yet acknowledged at any time (default 32). MQTT keeps them in order on one connection (§4.6). */
  readonly inflight?: number;
  /**
   * Most readings sent per second (default: no limit): a backlog drains at this pace. The cloud also paces a
   * sender past its per-device rate by holding back acknowledgements; this keeps the gateway below it.
   */
  readonly maxRate?: number;
  /** The clock maxRate is paced on (ms; default Date.now): tests freeze it. */
  readonly now?: () => number;
  readonly reconnectMs?: number;
  /** Default: none. The daemon logs in as its gateway id with the password derived from its key (daemon.ts). */
  readonly username?: string;
  readonly password?: string;
  /**
   * For an mqtts:// url (PEM contents): `ca` is the only root the broker's certificate is verified against
   * (pinned; without it the system roots), `cert` and `key` a client certificate the cloud may identify the
   * gateway by (docs/gateway.md "TLS").
   */
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
  readonly onError?: (e: Error) => void;
}

/** `<prefix>/gw/<id>/status`: retained "online", and "offline" as the will or on a clean stop. */
export const statusTopic = (gatewayId: string, prefix = 'ferry'): string => `${prefix}/gw/${gatewayId}/status`;

export interface UplinkStats {
  readonly connected: boolean;
  readonly published: number;
  readonly acked: number;
  readonly reconnects: number;
}

export class Uplink {
  private readonly client: MqttClient;
  private readonly opts: UplinkOptions;
  private readonly inflight = new Set<number>();
  private lastSent = 0;
  private draining = false;
  private closed = false;
  private published = 0;
  private acked = 0;
  private reconnects = 0;
  /** Send budget for maxRate: whole readings available now, refilled by elapsed time (a token bucket). */
  private budget = 0;
  private budgetAt = 0;
  private paceTimer: NodeJS.Timeout | undefined;

  constructor(opts: UplinkOptions) {
    this.opts = opts;
    const status = statusTopic(opts.gatewayId, opts.prefix);
    this.client = mqtt.connect(opts.url, {
      // The cloud's broker binds the client id to the user name, the gateway's id (docs/cloud.md, "MQTT").
      clientId: opts.gatewayId,
      clean: true,
      reconnectPeriod: opts.reconnectMs ?? 1000,
      connectTimeout: 5000,
      will: { topic: status, payload: Buffer.from('offline'), qos: 1, retain: true },
      ...(opts.username !== undefined && { username: opts.username }),
      ...(opts.password !== undefined && { password: opts.password }),
      ...(opts.tls !== undefined && { ...opts.tls, rejectUnauthorized: true }),
    });
    noDelay(this.client);
    this.client.on('connect', () => {
      // A new connection: whatever was in flight is unacknowledged; send again from the oldest.
      this.inflight.clear();
      this.lastSent = 0;
      this.client.publish(status, 'online', { qos: 1, retain: true });
      this.drain();
    });
    this.client.on('reconnect', () => {
      this.reconnects++;
    });
    this.client.on('error', (e) => opts.onError?.(e));
  }

  /** The MQTT connection, shared with the control channel (the gateway's only connection out of its NAT). */
  get mqtt(): MqttClient {
    return this.client;
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** Commits a reading to the outbox (durable before this returns), then sends it when the link allows. */
  send(topic: string, payload: Uint8Array): number {
    const id = this.opts.outbox.put(topic, payload);
    this.drain();
    return id;
  }

  /** Publishes the oldest unsent readings, keeping at most `inflight` unacknowledged. */
  drain(): void {
    if (this.draining || this.closed || !this.client.connected) return;
    this.draining = true;
    try {
      const room = Math.min((this.opts.inflight ?? 32) - this.inflight.size, this.allowance());
      if (room <= 0) return;
      const batch = this.opts.outbox.peek(room, this.lastSent);
      this.budget -= batch.length;
      for (const e of batch) this.publish(e);
    } finally {
      this.draining = false;
    }
  }

  /** How many readings maxRate lets out now; when none, a drain is scheduled for when one will be. */
  private allowance(): number {
    const rate = this.opts.maxRate ?? 0;
    if (!(rate > 0)) return Number.POSITIVE_INFINITY;
    const now = (this.opts.now ?? Date.now)();
    // Burst: a quarter second's worth, so a paced drain still fills the in-flight window.
    this.budget = Math.min(Math.max(1, rate / 4), this.budget + ((now - this.budgetAt) / 1000) * rate);
    this.budgetAt = now;
    const whole = Math.floor(this.budget);
    if (whole <= 0 && this.paceTimer === undefined) {
      this.paceTimer = setTimeout(
        () => {
          this.paceTimer = undefined;
          this.drain();
        },
        Math.ceil(((1 - this.budget) / rate) * 1000),
      );
      this.paceTimer.unref();
    }
    return whole;
  }

  private publish(e: OutboxEntry): void {
    this.inflight.add(e.id);
    this.lastSent = e.id;
    this.published++;
    this.client.publish(e.topic, Buffer.from(e.payload), { qos: 1 }, (err) => {
      this.inflight.delete(e.id);
      if (err !== undefined && err !== null) {
        // Not acknowledged (disconnect, broker refusal): it stays in the outbox and is resent on reconnect.
        this.opts.onError?.(err);
        return;
      }
      try {
        this.opts.outbox.ack(e.id);
      } catch (ackError) {
        // The delete failed (a full disk can refuse even a DELETE: WAL mode appends first). The reading stays
        // and is sent again later; the cloud de-duplicates it. Thrown here it would be an uncaught exception.
        this.opts.onError?.(ackError as Error);
        return;
      }
      this.acked++;
      this.drain();
    });
  }

  stats(): UplinkStats {
    return { connected: this.client.connected, published: this.published, acked: this.acked, reconnects: this.reconnects };
  }

  /** Resolves when the outbox is empty and nothing is in flight (or rejects after `timeoutMs`). */
  async flushed(timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.opts.outbox.stats().rows > 0 || this.inflight.size > 0) {
      if (Date.now() > until) throw new Error(`uplink not flushed after ${timeoutMs} ms: ${this.opts.outbox.stats().rows} readings buffered`);
      this.drain();
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Graceful stop: publishes "offline" (retained) itself, since a clean disconnect does not fire the will. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.paceTimer !== undefined) clearTimeout(this.paceTimer);
    if (this.client.connected) {
      await new Promise<void>((r) => this.client.publish(statusTopic(this.opts.gatewayId, this.opts.prefix), 'offline', { qos: 1, retain: true }, () => r()));
    }
    // Not connected: nothing is in flight to wait for, and a graceful end would wait on the reconnect loop
    // (a daemon stopped while its broker is unreachable hung here), so end at once.
    await this.client.endAsync(!this.client.connected);
  }

  /** Drops the connection without a DISCONNECT packet (as a crash would), for tests of the last will. */
  kill(): void {
    this.closed = true;
    (this.client.stream as { destroy?: () => void } | undefined)?.destroy?.();
    this.client.end(true);
  }
}
