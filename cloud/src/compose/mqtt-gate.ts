/**
 * @module Service objects' streams over MQTT (docs/composite-streams.md, "MQTT"). Out: every value the host
 * stores is published on `<p>/so/<so>/<stream>` as a sensor update with its `id`, QoS 1. In: a sensor update
 * published on `<p>/so/<so>/<stream>/in` feeds the stream through the host, and is acknowledged only once the
 * host stored it (or refused it for good: dropped and counted; the connection stays).
 *
 * Who: a device or gateway acts for the owner the registry gives it. It may subscribe to a stream its owner
 * may read (SoHosting.mayRead at SUBSCRIBE); the verdict is kept per (topic, owner) and asked again before
 * each value is published, and each delivery consults it, so a revoked grant (or a deleted object) stops
 * delivery from the next value on. It may feed only its owner's objects (SoHosting.push checks it). Workers
 * act globally. The embedded broker asks this port (BrokerAuth.objects); Mosquitto does not, so there only
 * workers use these topics.
 */
import { TokenBuckets } from '@ferry/base';
import type { StreamValue } from '@ferry/compose';
import type { Access, Identity, ObjectTopics } from '../mqtt-auth/acl.ts';
import { soTopic } from '../mqtt-auth/acl.ts';
import type { Caller, HostedOutput, SoHosting } from './hosting.ts';
import { SerialQueues } from './serial-queues.ts';

/** Limits of the MQTT side (docs/limits.md). */
export const SO_MQTT_LIMITS = {
  /** (topic, owner) read verdicts kept; past it the oldest topic is forgotten (its subscribers receive nothing until they subscribe again). */
  maxVerdictTopics: 100_000,
  /** Values waiting to be published; past it the newest is dropped and counted. */
  maxPending: 10_000,
  /** Sensor updates per second an owner's devices and gateways feed in, all together, and the burst. */
  inputsPerSecond: 1000,
  inputBurst: 2000,
} as const;

export interface SoMqttParts {
  readonly hosting: SoHosting;
  readonly prefix: string;
  /** The owner of a registered device or gateway (undefined: none, it may use no object). */
  readonly ownerOf: (id: string) => string | undefined;
  /** A QoS 1 publish on the cloud's own connection. */
  readonly publish: (topic: string, payload: string) => void;
  readonly log?: ((m: string) => void) | undefined;
  /** Per-owner input rate (default SO_MQTT_LIMITS.inputsPerSecond, inputBurst). */
  readonly inputRate?: { readonly perSecond: number; readonly burst: number } | undefined;
}

export interface SoMqttCounters {
  /** Sensor updates taken in and stored. */
  accepted: number;
  /** Sensor updates not newer than the stream's latest (acknowledged, nothing stored). */
  notNewer: number;
  /** Sensor updates refused (not JSON, not the sender's object, malformed): acknowledged, dropped. */
  refused: number;
  /** Values published out. */
  published: number;
  /** Values dropped before publishing (the pending queue was full). */
  overflow: number;
  /** Subscriptions refused. */
  subscriptionsRefused: number;
  /** Inputs held back because their owner was past its rate (the PUBACK waited). */
  paced: number;
}

/** A stored value as a sensor update with its idempotency key: `{channels: {<ch>: {"current-value": v}}, lastUpdate, id}`. */
export function asUpdate(v: StreamValue): { channels: Record<string, { 'current-value': unknown }>; lastUpdate: number; id: string } {
  const channels: Record<string, { 'current-value': unknown }> = {};
  for (const [ch, x] of Object.entries(v.channels)) channels[ch] = { 'current-value': x };
  return { channels, lastUpdate: v.lastUpdate, id: v.id };
}

/** A published value may be fed back into another stream's input unchanged: its `id` is not part of a sensor update. */
function parseInput(payload: Buffer | string): unknown {
  const x = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8')) as unknown;
  if (typeof x === 'object' && x !== null && !Array.isArray(x) && 'id' in x) {
    const { id: _id, ...rest } = x as Record<string, unknown>;
    return rest;
  }
  return x;
}

export class SoMqttGate implements ObjectTopics {
  readonly counters: SoMqttCounters = { accepted: 0, notNewer: 0, refused: 0, published: 0, overflow: 0, subscriptionsRefused: 0, paced: 0 };
  readonly #buckets = new TokenBuckets({ maxEntries: 100_000 });
  readonly #p: SoMqttParts;
  /** Read verdicts by topic, then owner. */
  readonly #verdicts = new Map<string, Map<string, boolean>>();
  readonly #inputs = new SerialQueues();
  #out: Promise<void> = Promise.resolve();
  #pending = 0;
  #unlisten: (() => void) | undefined;

  constructor(p: SoMqttParts) {
    this.#p = p;
  }

  /** Publishes every value the host stores from now on. */
  start(): void {
    this.#unlisten ??= this.#p.hosting.onOutput((o) => this.#enqueue(o));
  }

  /** Stops publishing and waits for what was queued. */
  async stop(): Promise<void> {
    this.#unlisten?.();
    this.#unlisten = undefined;
    await this.#out;
    await this.#inputs.idle();
  }

  owns(access: Access, topic: string): boolean {
    const t = soTopic(this.#p.prefix, topic);
    return t !== undefined && (access === 'publish') === (t.dir === 'in');
  }

  #caller(who: Identity): Caller | undefined {
    if (who.kind === 'worker') return { global: true };
    const owner = this.#p.ownerOf(who.id);
    return owner === undefined ? undefined : { owner };
  }

  async subscribe(who: Identity, topic: string): Promise<boolean> {
    const t = soTopic(this.#p.prefix, topic);
    const caller = this.#caller(who);
    if (t === undefined || t.dir !== 'out' || caller === undefined) return this.#refuse();
    if (caller.global === true) return true;
    const ok = await this.#p.hosting.mayRead(caller, t.so, t.stream);
    this.#record(topic, caller.owner!, ok);
    return ok || this.#refuse();
  }

  #refuse(): false {
    this.counters.subscriptionsRefused++;
    return false;
  }

  #record(topic: string, owner: string, ok: boolean): void {
    let m = this.#verdicts.get(topic);
    if (m === undefined) {
      if (!ok) return;
      if (this.#verdicts.size >= SO_MQTT_LIMITS.maxVerdictTopics) this.#verdicts.delete(this.#verdicts.keys().next().value!);
      m = new Map();
      this.#verdicts.set(topic, m);
    }
    if (ok) m.set(owner, true);
    else m.delete(owner);
  }

  deliverable(who: Identity, topic: string): boolean {
    if (who.kind === 'worker') return true;
    const owner = this.#p.ownerOf(who.id);
    return owner !== undefined && this.#verdicts.get(topic)?.get(owner) === true;
  }

  take(who: Identity, topic: string, payload: Buffer | string): Promise<'drop' | undefined> {
    const t = soTopic(this.#p.prefix, topic);
    const caller = this.#caller(who);
    if (t === undefined || t.dir !== 'in' || caller === undefined) return Promise.resolve(this.#refused(`no object input ${topic} for ${who.id}`));
    // One stream's updates are pushed one at a time, in the order they arrived.
    return this.#inputs.run(`${t.so}/${t.stream}`, async () => {
      let update: unknown;
      try {
        update = parseInput(payload);
      } catch {
        return this.#refused(`${topic}: not JSON`);
      }
      await this.#pace(caller);
      // A push that throws (the host's store failed) rejects: the publish is not acknowledged and comes again.
      const r = await this.#p.hosting.push(caller, t.so, t.stream, update);
      if (!r.ok) return this.#refused(`${topic} from ${who.id}: ${r.error.code}`);
      if (r.value.outcome === 'accepted') this.counters.accepted++;
      else this.counters.notNewer++;
      return 'drop'; // stored (or not newer): nobody subscribes to inputs, the values go out on the stream's topic
    });
  }

  /** Past its owner's rate an input waits (and so does its PUBACK): a flooding owner slows itself, as docs/limits.md has it. */
  async #pace(caller: Caller): Promise<void> {
    if (caller.owner === undefined) return;
    const { perSecond, burst } = this.#p.inputRate ?? { perSecond: SO_MQTT_LIMITS.inputsPerSecond, burst: SO_MQTT_LIMITS.inputBurst };
    if (this.#buckets.take(caller.owner, perSecond, burst)) return;
    this.counters.paced++;
    do await new Promise((r) => setTimeout(r, Math.ceil(1000 / perSecond)));
    while (!this.#buckets.take(caller.owner, perSecond, burst));
  }

  #refused(why: string): 'drop' {
    this.counters.refused++;
    this.#p.log?.(`so mqtt: refused ${why}`);
    return 'drop';
  }

  #enqueue(o: HostedOutput): void {
    if (this.#pending >= SO_MQTT_LIMITS.maxPending) {
      this.counters.overflow++;
      return;
    }
    this.#pending++;
    this.#out = this.#out.then(async () => {
      try {
        const topic = `${this.#p.prefix}/so/${o.so}/${o.stream}`;
        await this.#recheck(topic, o);
        this.#p.publish(topic, JSON.stringify(asUpdate(o.value)));
        this.counters.published++;
      } catch (e) {
        this.#p.log?.(`so mqtt: publishing ${o.so}/${o.stream}: ${(e as Error).message}`);
      } finally {
        this.#pending--;
      }
    });
  }

  /** Asks again, for every owner whose identities subscribed to the topic, whether it may still read it. */
  async #recheck(topic: string, o: HostedOutput): Promise<void> {
    const m = this.#verdicts.get(topic);
    if (m === undefined) return;
    const owners = [...m.keys()];
    const oks = await Promise.all(owners.map((owner) => (owner === o.owner ? true : this.#p.hosting.mayRead({ owner }, o.so, o.stream))));
    for (const [i, owner] of owners.entries()) this.#record(topic, owner, oks[i]!);
  }
}
