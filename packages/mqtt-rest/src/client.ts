/**
 * @module The cloud's end of the control channel: sends requests with random ids and accepts a reply only
 * when it verifies under the control key of the gateway the request went to, came on that gateway's reply
 * topic, is MACed as a reply, and names a request pending for that gateway. Anything else is refused and
 * counted (`refused`, `onRefused`), and the request keeps waiting for its real reply.
 */
import type { MqttClient } from 'mqtt';
import type { HmacKey, MessageErrorCode } from '@ferry/message';
import { replyTopic, requestTopic, type ControlReply, type ControlRequest } from './channel.ts';
import { newRequestId, openPart, Reassembler, seal, type Sender } from './envelope.ts';
import { ControlError, type ControlErrorCode } from './errors.ts';
import { controlKey } from './keys.ts';

export type RefusedReply = ControlErrorCode | MessageErrorCode;

export interface ControlClientOptions {
  /** A reply refused: why, and the gateway whose reply topic it came on. */
  readonly onRefused?: (why: RefusedReply, gatewayId: string) => void;
}

interface Pending {
  readonly gatewayId: string;
  readonly resolve: (r: ControlReply) => void;
  readonly timer: NodeJS.Timeout;
}

export class ControlClient {
  private readonly client: MqttClient;
  private readonly keyOf: (gatewayId: string) => Uint8Array | undefined;
  private readonly prefix: string;
  private readonly onRefused: ControlClientOptions['onRefused'];
  private readonly pending = new Map<string, Pending>();
  /** Gateways with requests pending, and their control keys: only their replies are verified at all. */
  private readonly waiting = new Map<string, { key: HmacKey; n: number }>();
  private readonly subscribed = new Set<string>();
  private readonly sender: Sender = { kid: 'cloud', ep: Math.floor(Date.now() / 1000), sq: 0, group: 0 };
  private readonly parts = new Reassembler();
  /** Replies refused so far, by code. */
  readonly refused = new Map<RefusedReply, number>();

  /**
   * @param keyOf the gateway's key (the one its readings are MACed with; the registry's), from which the
   *   control key is derived here.
   */
  constructor(client: MqttClient, keyOf: (gatewayId: string) => Uint8Array | undefined, prefix = 'ferry', opts: ControlClientOptions = {}) {
    this.client = client;
    this.keyOf = keyOf;
    this.prefix = prefix;
    this.onRefused = opts.onRefused;
    client.on('message', (topic, payload) => this.onReply(topic, payload));
  }

  private refuse(why: RefusedReply, gatewayId: string): void {
    this.refused.set(why, (this.refused.get(why) ?? 0) + 1);
    this.onRefused?.(why, gatewayId);
  }

  private onReply(topic: string, payload: Buffer): void {
    const m = /^(.*)\/ctl\/([^/]+)\/res$/.exec(topic);
    if (m === null || m[1] !== this.prefix) return;
    const gw = m[2]!;
    const w = this.waiting.get(gw);
    // Nothing is pending for this gateway: late, or meant for another cloud worker. Not even verified.
    if (w === undefined) {
      this.refuse('FERRY_CTL_UNKNOWN_REQUEST', gw);
      return;
    }
    const p = openPart(payload, w.key, { ev: 'ctl-res', gw });
    if (!p.ok) {
      this.refuse(p.code, gw);
      return;
    }
    const pending = this.pending.get(p.part.rid);
    if (pending === undefined) {
      this.refuse('FERRY_CTL_UNKNOWN_REQUEST', gw);
      return;
    }
    if (pending.gatewayId !== gw) {
      this.refuse('FERRY_CTL_WRONG_GATEWAY', gw);
      return;
    }
    let reply: Partial<ControlReply> | undefined;
    try {
      reply = this.parts.add(p.part, Date.now()) as Partial<ControlReply> | undefined;
    } catch {
      this.refuse('FERRY_CTL_BAD_REPLY', gw);
      return;
    }
    if (reply === undefined && p.part.header.group !== undefined) return; // more parts to come
    if (reply === undefined || reply.id !== p.part.rid || typeof reply.status !== 'number') {
      this.refuse('FERRY_CTL_BAD_REPLY', gw);
      return;
    }
    this.settle(p.part.rid);
    pending.resolve({ id: reply.id, status: reply.status, body: reply.body });
  }

  private settle(id: string): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    const w = this.waiting.get(p.gatewayId);
    if (w !== undefined && --w.n === 0) this.waiting.delete(p.gatewayId);
  }

  /** Sends a request to a gateway's REST API (paths under /api/ only; others are refused here, at once). */
  async request(gatewayId: string, req: Omit<ControlRequest, 'id'>, timeoutMs = 5000): Promise<ControlReply> {
    if (!req.path.startsWith('/api/'))
      throw new ControlError('FERRY_CTL_BAD_REQUEST', `only /api/ routes are served over the control channel, not ${req.path}`);
    return this.requestUnchecked(gatewayId, req, timeoutMs);
  }

  /** As request(), without the path check: for tests of what a gateway does with any request. */
  async requestUnchecked(gatewayId: string, req: Omit<ControlRequest, 'id'>, timeoutMs = 5000): Promise<ControlReply> {
    const secret = this.keyOf(gatewayId);
    if (secret === undefined) throw new ControlError('FERRY_CTL_BAD_REPLY', `no key for gateway ${gatewayId}`);
    const key = controlKey(secret, gatewayId);
    const rt = replyTopic(this.prefix, gatewayId);
    if (!this.subscribed.has(rt)) {
      await this.client.subscribeAsync(rt, { qos: 1 });
      this.subscribed.add(rt);
    }
    const id = newRequestId();
    const tokens = seal(this.sender, key, { ev: 'ctl-req', gw: gatewayId, rid: id }, { id, ...req }, Date.now());
    const reply = new Promise<ControlReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.settle(id);
        reject(new ControlError('FERRY_CTL_TIMEOUT', `gateway ${gatewayId} did not answer ${req.method} ${req.path} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { gatewayId, resolve, timer });
      // The key of the latest request wins: a gateway re-keyed meanwhile answers under its new key.
      const w = this.waiting.get(gatewayId);
      this.waiting.set(gatewayId, { key, n: (w?.n ?? 0) + 1 });
    });
    for (const t of tokens) await this.client.publishAsync(requestTopic(this.prefix, gatewayId), t, { qos: 1 });
    return reply;
  }
}
