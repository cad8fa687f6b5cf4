/**
 * @module Command delivery wired for the cloud service (docs/actions.md): the store of the running mode
 * (SQLite in cloud.db embedded, Redis scale-out), presence, the service, broadcasts and tags, the embedded
 * broker's client events, and the rule-output trigger `<prefix>/cmd/<device>`.
 */
import type Database from 'better-sqlite3';
import type { Aedes } from 'aedes';
import type { Redis } from 'ioredis';
import type { HmacKey } from '@ferry/message';
import type { IngestEvent } from '../ingest/index.ts';
import type { DeviceInfo } from '../devices/registry.ts';
import { Broadcasts } from './broadcast.ts';
import { COMMAND_LIMITS, type CommandLimits } from './limits.ts';
import { PRIORITIES, type Priority } from './model.ts';
import { Presence } from './presence.ts';
import { CommandService, type CommandEvent } from './service.ts';
import type { CommandStore } from './store.ts';
import { DeviceTags } from './tags.ts';

export { CommandService, type CommandEvent, type CommandRequest } from './service.ts';
export { CommandError, CMD_ERRORS } from './errors.ts';

export interface CommandsOptions {
  /** cloud.db: device tags live there in both modes, as the device registry does. */
  readonly db: Database.Database;
  /** The command store of the running mode: SqliteCommandStore (embedded) or RedisCommandStore (scale-out). */
  readonly store: CommandStore;
  /** Scale-out: the Redis the store uses, also for presence shared between workers; closed on stop. */
  readonly redis?: Redis | undefined;
  /** Embedded broker: presence from its subscriptions; else from uplinks (presence.ts). */
  readonly embedded: boolean;
  readonly prefix: string;
  readonly epoch: number;
  keyOf(device: string): HmacKey | undefined;
  placeOf(device: string): { readonly owner: string | undefined; readonly namespace: string } | undefined;
  devices(): readonly DeviceInfo[];
  publish(topic: string, payload: string): void;
  log(msg: string): void;
  readonly limits?: Partial<CommandLimits> | undefined;
  readonly notify?: ((e: CommandEvent) => void) | undefined;
  /** The device's stored `cmd.ack` bodies since `from` (CommandPorts.answers). */
  readonly answers?: ((device: string, from: number) => Promise<readonly unknown[]>) | undefined;
}

export class Commands {
  readonly service: CommandService;
  readonly broadcasts: Broadcasts;
  readonly tags: DeviceTags;
  readonly presence: Presence;
  readonly #redis: Redis | undefined;
  readonly #prefix: string;
  readonly #presenceMs: number;
  /** When this worker last told Redis of each device's presence. */
  readonly #told = new Map<string, number>();

  constructor(o: CommandsOptions) {
    this.#prefix = o.prefix;
    this.#redis = o.redis;
    const store = o.store;
    const limits = o.limits;
    this.#presenceMs = limits?.presenceMs ?? COMMAND_LIMITS.presenceMs;
    this.presence = new Presence(o.prefix, o.embedded ? undefined : this.#presenceMs);
    this.service = new CommandService({
      store,
      keyOf: o.keyOf,
      placeOf: o.placeOf,
      epoch: o.epoch,
      publish: o.publish,
      online: (d) => this.#online(d),
      prefix: o.prefix,
      limits,
      notify: o.notify,
      answers: o.answers,
      log: o.log,
    });
    this.tags = new DeviceTags(o.db);
    this.broadcasts = new Broadcasts(this.service, store, o.devices, this.tags);
  }

  /** The embedded broker's client events: a subscription to a command topic is presence, a PUBACK of a command is its delivery. */
  attach(events: Pick<Aedes, 'on'>): void {
    const cmdTopic = (t: string | undefined): boolean => t?.startsWith(`${this.#prefix}/dn/`) === true && t.endsWith('/cmd');
    events.on('subscribe', (subs, client) => {
      for (const d of this.presence.subscribed(
        client.id,
        subs.map((s) => s.topic),
      ))
        void this.service.pump(d);
    });
    events.on('clientDisconnect', (client) => this.presence.disconnected(client.id));
    // A PUBACK says which publish it acknowledges only for a persistent session (aedes hands the stored packet);
    // for a clean session aedes hands none, and the PUBACK is taken for the command in flight to that client's
    // devices: docs/actions.md "Lifecycle" says what `delivered` means.
    events.on('ack', (packet, client) => {
      if (packet?.cmd === 'publish') {
        if (cmdTopic(packet.topic)) void this.service.transportAck(String(packet.payload));
        return;
      }
      for (const d of this.presence.devicesOf(client.id)) {
        const token = this.service.inFlightToken(d);
        if (token !== undefined) void this.service.transportAck(token);
      }
    });
  }

  /**
   * A released uplink event: a `cmd.ack` answers its command; scale-out, a device's message marks it online
   * (here and, at most every quarter of the presence time, in Redis for the other workers) and sends what
   * waited for it.
   */
  released(e: IngestEvent): void {
    if (e.type !== 'message') return;
    const fresh = this.presence.seen(e.kid);
    if (this.#redis !== undefined) {
      const now = Date.now();
      const last = this.#told.get(e.kid);
      if (last === undefined || now - last > this.#presenceMs / 4) {
        if (this.#told.size > 200_000) this.#told.clear();
        this.#told.set(e.kid, now);
        void this.#redis.set(`ferry:cmd:seen:${e.kid}`, '1', 'PX', this.#presenceMs).catch(() => undefined);
      }
    }
    if (e.message.claims['ev'] === 'cmd.ack') void this.service.uplink(e);
    else if (fresh) void this.service.pump(e.kid);
  }

  async #online(device: string): Promise<boolean> {
    if (this.presence.online(device)) return true;
    return this.#redis !== undefined && (await this.#redis.exists(`ferry:cmd:seen:${device}`)) === 1;
  }

  /**
   * A cloud rule's output on `<prefix>/cmd/<device>` becomes a command (cloud rules are the admin's, so any
   * device): the output is `{command, ttl_s?, priority?}`, or the command object itself. True when taken.
   */
  ruleOutput(topic: string, payload: string): boolean {
    const head = `${this.#prefix}/cmd/`;
    if (!topic.startsWith(head)) return false;
    const device = topic.slice(head.length);
    let v: unknown;
    try {
      v = JSON.parse(payload);
    } catch {
      v = undefined;
    }
    const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
    const wrapped = typeof o['command'] === 'object' && o['command'] !== null;
    const priority = PRIORITIES.includes(o['priority'] as Priority) ? (o['priority'] as Priority) : undefined;
    this.service
      .enqueue({
        device,
        command: wrapped ? o['command'] : v,
        ttlS: wrapped && typeof o['ttl_s'] === 'number' ? o['ttl_s'] : undefined,
        priority: wrapped ? priority : undefined,
        source: 'rule',
      })
      .catch((e: unknown) => this.service.log(`commands: rule output for ${device} refused: ${e instanceof Error ? e.message : String(e)}`));
    return true;
  }

  start(): void {
    this.service.start();
  }

  async stop(): Promise<void> {
    this.service.stop();
    await this.#redis?.quit().catch(() => undefined);
  }
}
