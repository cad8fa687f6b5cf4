/**
 * @module The cloud's rules host (the same rule engine as the gateway's, @ferry/rules-host) and what it is fed:
 * every released message, under the MQTT topic it arrived on, as the record a gateway's rules would see.
 */
import { type Json, TIME_LEEWAY_S } from '@ferry/message';
import { RulesHost, httpTransport } from '@ferry/rules-host';
import type { IngestEvent } from '../ingest/index.ts';

export interface RulesParts {
  publish(topic: string, payload: string): void;
  /** A request to a gateway's REST API over its control channel (control.ts). */
  gatewayRequest(gatewayId: string, method: 'POST', path: string, body: unknown): Promise<{ status: number; body: unknown }>;
  log(msg: string): void;
  /** Whether a gateway id is known (it has a key): a job may move to `gateway:<id>` only then. */
  isGateway(id: string): boolean;
  /** HTTP peers a job may move to (base URLs, CloudOptions.movePeers). */
  readonly movePeers: readonly string[];
}

export function createRulesHost(p: RulesParts): RulesHost {
  return new RulesHost({
    runtime: 'cloud',
    publish: (topic, payload) => p.publish(topic, JSON.stringify(payload)),
    onError: (e) => p.log(`rules: ${e.message}`),
    // A move sends the job and its window state to the target: only to a registered gateway or a peer the
    // operator listed, never to any URL a request names.
    moveTarget: (target) => {
      const gw = /^gateway:(.+)$/.exec(target)?.[1];
      if (gw !== undefined) return p.isGateway(gw) ? undefined : `no registered gateway ${gw}`;
      const base = target.replace(/\/+$/, '');
      return p.movePeers.some((peer) => peer.replace(/\/+$/, '') === base)
        ? undefined
        : `${target} is not a configured move peer (CloudOptions.movePeers, --move-peer)`;
    },
    // A job moved to `gateway:<id>` travels over that gateway's control channel; others over HTTP.
    transport: async (relocation) => {
      const gw = /^gateway:(.+)$/.exec(relocation.targetResource)?.[1];
      if (gw === undefined) return httpTransport(relocation);
      const reply = await p.gatewayRequest(gw, 'POST', '/api/move', relocation);
      if (reply.status >= 300) throw new Error(`gateway ${gw} refused the job: ${reply.status} ${JSON.stringify(reply.body)}`);
      return reply.body;
    },
  });
}

/** The input a released message is to the rules, under its topic (a message that came without one reaches no rule). */
export function ruleInput(e: IngestEvent): { topic: string; record: unknown; atMs: number; id: string } | undefined {
  if (e.type !== 'message') return undefined;
  const d = e.message.claims['d'];
  if (e.topic === undefined || typeof d !== 'object' || d === null || Array.isArray(d)) return undefined;
  // A gateway rule's output is {topic, out}: the next stage sees `out`, as it would on the gateway.
  // A reading: the record a gateway's rules see for it, its data without transport metadata.
  const { meta: _meta, ...reading } = d as Record<string, Json>;
  const record = e.message.claims['ev'] === 'rule' ? (d as Record<string, Json>)['out'] : reading;
  // A job's time is its records' (docs/rules.md): a device whose clock runs far ahead would move it for every
  // device the job reads, and their records would come late. Its time counts as at most its arrival plus the
  // leeway given clocks elsewhere (RFC 7519 §4.1.4, TIME_LEEWAY_S).
  const atMs = Math.min(e.message.claims.iat * 1000, e.at + TIME_LEEWAY_S * 1000);
  return { topic: relayedTopic(e) ?? e.topic, record, atMs, id: `${e.kid}/${e.ep}/${e.sq}` };
}

/** Longest topic a relayed rule output may name. */
const MAX_RELAY_TOPIC = 256;

/**
 * The topic a gateway's rule output is for, when it came on the gateway's own `<p>/up/<gw>/rule` (the broker
 * lets a gateway publish only in its own space): the topic its signed claims name. Undefined for anything else.
 */
export function relayedTopic(e: IngestEvent): string | undefined {
  if (e.type !== 'message' || e.message.claims['ev'] !== 'rule' || e.topic === undefined || !e.topic.endsWith(`/up/${e.kid}/rule`)) return undefined;
  const t = (e.message.claims['d'] as Record<string, Json> | undefined)?.['topic'];
  // A topic name: no wildcards (MQTT 3.1.1 §4.7.1) and no NUL (§1.5.3).
  return typeof t === 'string' && t.length > 0 && t.length <= MAX_RELAY_TOPIC && !/[#+]/.test(t) && !t.includes('\u0000') ? t : undefined;
}

/**
 * Whether the cloud relays a gateway's rule output to `topic` for subscribers: under the prefix and outside
 * the spaces of identities (uplink, calls, downlink, namespace state, control, gateway status), the
 * latency probe's and the alarms' (docs/operations.md), so a gateway can never speak for another identity through the cloud.
 */
export function relayable(prefix: string, topic: string): boolean {
  if (!topic.startsWith(`${prefix}/`)) return false;
  const space = topic.slice(prefix.length + 1).split('/')[0];
  return !['up', 'fn', 'dn', 'ns', 'ctl', 'gw', 'so', 'cmd', 'probe', 'alarms'].includes(space ?? '');
}

export interface RulesFeedOptions {
  /** Inputs run per turn of the event loop before it yields (default 200). */
  readonly perTurn?: number;
  /** Inputs waiting above which the intake holds back acknowledgements (default 5000): back-pressure. */
  readonly highWater?: number;
  /** Told how long the rules took for each input, seconds (the rule evaluation histogram). */
  readonly observe?: (seconds: number) => void;
}

/**
 * Feeds released messages to the rules OFF the ingest path: ingest (and, embedded, its SQLite commit and the
 * broker's PUBACK) only queues them; the rules run a bounded number per turn of the event loop, so a costly
 * rule delays rule outputs, never the broker, ingest or HTTP. While more than `highWater` inputs wait, `busy`
 * is true and the intake holds new messages back (their acknowledgements wait), so the queue stays bounded
 * without dropping anything.
 */
export class RulesFeed {
  readonly #rules: RulesHost;
  readonly #perTurn: number;
  readonly #highWater: number;
  readonly #observe: ((seconds: number) => void) | undefined;
  #queue: NonNullable<ReturnType<typeof ruleInput>>[] = [];
  #head = 0;
  #scheduled = false;

  constructor(rules: RulesHost, o: RulesFeedOptions = {}) {
    this.#rules = rules;
    this.#perTurn = o.perTurn ?? 200;
    this.#highWater = o.highWater ?? 5000;
    this.#observe = o.observe;
  }

  get backlog(): number {
    return this.#queue.length - this.#head;
  }

  get busy(): boolean {
    return this.backlog > this.#highWater;
  }

  push(e: IngestEvent): void {
    const input = ruleInput(e);
    if (input === undefined) return;
    this.#queue.push(input);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#drain());
    }
  }

  #drain(): void {
    this.#scheduled = false;
    const end = Math.min(this.#queue.length, this.#head + this.#perTurn);
    for (; this.#head < end; this.#head++) {
      const x = this.#queue[this.#head]!;
      const t0 = performance.now();
      this.#rules.input(x.topic, x.record, x.atMs, x.id); // never throws: RulesHost reports errors to onError
      this.#observe?.((performance.now() - t0) / 1000);
    }
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else {
      if (this.#head > 4096) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      this.#scheduled = true;
      setImmediate(() => this.#drain());
    }
  }
}
