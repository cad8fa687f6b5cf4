/**
 * @module Both ends of the control channel, REST over MQTT: the cloud reaches a gateway behind NAT through
 * the MQTT connection the gateway itself opened. A request is a Ferry message signed with the gateway's key
 * (the secret both share), carrying {id, method, path, body}; the gateway answers with the same REST routes
 * it serves locally (fastify's inject), so the rule API is one API whatever the transport. Requests older than
 * `maxAgeMs` or seen before are refused (replay), and every reply is signed by the gateway.
 */
import type { FastifyInstance } from 'fastify';
import type { MqttClient } from 'mqtt';
import { encode, verify, type HmacKey, type MessageErrorCode } from '@ferry/message';
import { ControlError, type ControlErrorCode } from './errors.ts';

export const requestTopic = (prefix: string, gatewayId: string): string => `${prefix}/ctl/${gatewayId}/req`;
export const replyTopic = (prefix: string, gatewayId: string): string => `${prefix}/ctl/${gatewayId}/res`;

export interface ControlRequest {
  readonly id: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: unknown;
}
export interface ControlReply {
  readonly id: string;
  readonly status: number;
  readonly body: unknown;
}

/*
 * Payloads larger than one envelope (2 KiB) travel as a GROUP of messages (header grp/part/parts, the
 * envelope's own multi-part mechanism): the JSON text is cut into base64 chunks of CHUNK bytes, one per
 * part, and reassembled by group id on the other side. A relocation object with its window state is
 * typically a few kilobytes.
 */
const CHUNK = 800;

interface Sender {
  readonly kid: string;
  readonly ep: number;
  sq: number;
  group: number;
}

function encodeAll(sender: Sender, key: HmacKey, ev: string, value: unknown, nowMs: number): string[] {
  const bytes = Buffer.from(JSON.stringify(value));
  const parts = Math.max(1, Math.ceil(bytes.length / CHUNK));
  const id = sender.group++;
  const out: string[] = [];
  for (let i = 0; i < parts; i++) {
    const header =
      parts === 1 ? { kid: sender.kid, ep: sender.ep, sq: sender.sq++ } : { kid: sender.kid, ep: sender.ep, sq: sender.sq++, group: { id, part: i, parts } };
    const t = encode(
      { header, claims: { iss: sender.kid, iat: Math.floor(nowMs / 1000), ev, d: { c: bytes.subarray(i * CHUNK, (i + 1) * CHUNK).toString('base64') } } },
      key,
    );
    if (!t.ok) throw t.error;
    out.push(t.value);
  }
  return out;
}

/** Collects the parts of grouped messages; returns the whole value once every part is in. */
class Reassembler {
  private readonly open = new Map<string, { parts: (string | undefined)[]; atMs: number }>();
  add(
    m: { header: { kid: string; ep: number; group?: { id: number; part: number; parts: number } }; claims: Record<string, unknown> },
    nowMs: number,
  ): unknown {
    const c = (m.claims['d'] as { c?: unknown } | undefined)?.c;
    if (typeof c !== 'string') return undefined;
    const g = m.header.group;
    const text = (chunks: string[]): unknown => JSON.parse(Buffer.concat(chunks.map((x) => Buffer.from(x, 'base64'))).toString());
    if (g === undefined) return text([c]);
    for (const [k, v] of this.open) if (nowMs - v.atMs > 30_000) this.open.delete(k); // abandoned groups
    const key = `${m.header.kid}/${m.header.ep}/${g.id}`;
    const entry = this.open.get(key) ?? { parts: new Array<string | undefined>(g.parts).fill(undefined), atMs: nowMs };
    if (entry.parts.length !== g.parts) return undefined;
    entry.parts[g.part] = c;
    this.open.set(key, entry);
    if (entry.parts.some((x) => x === undefined)) return undefined;
    this.open.delete(key);
    return text(entry.parts as string[]);
  }
}

/** Gateway side: serves control requests with the local REST routes. Returns a stop function. */
export async function serveControl(o: {
  readonly client: MqttClient;
  readonly app: FastifyInstance;
  readonly gatewayId: string;
  readonly key: HmacKey;
  readonly prefix?: string;
  readonly maxAgeMs?: number;
  readonly now?: () => number;
  /** A refused request: why, as a catalog code (a token that fails verification keeps its FERRY_MSG_* code). */
  readonly onRefused?: (why: ControlErrorCode | MessageErrorCode) => void;
}): Promise<() => Promise<void>> {
  const prefix = o.prefix ?? 'ferry';
  const now = o.now ?? Date.now;
  const seen = new Map<string, number>();
  // Replies: a fresh epoch per serving session, so (kid, ep, sq) never repeats.
  const sender: Sender = { kid: `${o.gatewayId}.ctl`.slice(0, 32), ep: Math.floor(now() / 1000), sq: 0, group: 0 };
  const parts = new Reassembler();
  const onMessage = (topic: string, payload: Buffer): void => {
    if (topic !== requestTopic(prefix, o.gatewayId)) return;
    const r = verify(payload, o.key);
    if (!r.ok) {
      o.onRefused?.(r.error.code);
      return;
    }
    let d: Partial<ControlRequest> | undefined;
    try {
      d = parts.add(r.value, now()) as Partial<ControlRequest> | undefined;
    } catch {
      o.onRefused?.('FERRY_CTL_BAD_REQUEST');
      return;
    }
    if (d === undefined && r.value.header.group !== undefined) return; // more parts to come
    const age = Math.abs(now() - r.value.claims.iat * 1000);
    if (d === undefined || typeof d.id !== 'string' || (d.method !== 'GET' && d.method !== 'POST') || typeof d.path !== 'string') {
      o.onRefused?.('FERRY_CTL_BAD_REQUEST');
      return;
    }
    if (age > (o.maxAgeMs ?? 120_000) || seen.has(d.id)) {
      o.onRefused?.('FERRY_CTL_REPLAY');
      return;
    }
    seen.set(d.id, now());
    if (seen.size > 10_000)
      for (const [k] of seen) {
        seen.delete(k);
        if (seen.size <= 5_000) break;
      }
    const id = d.id;
    const answer = (reply: ControlReply): void => {
      for (const t of encodeAll(sender, o.key, 'ctl-res', reply, now())) o.client.publish(replyTopic(prefix, o.gatewayId), t, { qos: 1 });
    };
    // Only the REST API is reachable this way. A verified request for anything else is answered with a
    // refusal at once, so the caller learns why instead of waiting for its timeout.
    if (!d.path.startsWith('/api/')) {
      o.onRefused?.('FERRY_CTL_FORBIDDEN_PATH');
      answer({ id, status: 403, body: { code: 'FERRY_CTL_FORBIDDEN_PATH', message: `only /api/ routes are served over the control channel, not ${d.path}` } });
      return;
    }
    void o.app.inject({ method: d.method, url: d.path, ...(d.body !== undefined && { payload: d.body as object }) }).then((res) => {
      let body: unknown;
      try {
        body = res.json();
      } catch {
        body = res.body;
      }
      answer({ id, status: res.statusCode, body });
    });
  };
  o.client.on('message', onMessage);
  await o.client.subscribeAsync(requestTopic(prefix, o.gatewayId), { qos: 1 });
  return async () => {
    o.client.removeListener('message', onMessage);
    await o.client.unsubscribeAsync(requestTopic(prefix, o.gatewayId)).catch(() => undefined);
  };
}

/** Cloud side: sends requests to gateways and waits for their signed replies. */
export class ControlClient {
  private readonly client: MqttClient;
  private readonly keyOf: (gatewayId: string) => HmacKey | undefined;
  private readonly prefix: string;
  private readonly pending = new Map<string, { resolve: (r: ControlReply) => void; timer: NodeJS.Timeout }>();
  private readonly subscribed = new Set<string>();
  private n = 0;
  private readonly sender: Sender = { kid: 'cloud', ep: Math.floor(Date.now() / 1000), sq: 0, group: 0 };
  private readonly parts = new Reassembler();

  constructor(client: MqttClient, keyOf: (gatewayId: string) => HmacKey | undefined, prefix = 'ferry') {
    this.client = client;
    this.keyOf = keyOf;
    this.prefix = prefix;
    client.on('message', (topic, payload) => {
      const m = /^(.*)\/ctl\/([^/]+)\/res$/.exec(topic);
      if (m === null || m[1] !== this.prefix) return;
      const key = this.keyOf(m[2]!);
      if (key === undefined) return;
      const r = verify(payload, key);
      if (!r.ok) return;
      let reply: ControlReply | undefined;
      try {
        reply = this.parts.add(r.value, Date.now()) as ControlReply | undefined;
      } catch {
        return;
      }
      if (reply === undefined) return;
      const p = this.pending.get(reply.id);
      if (p === undefined) return;
      this.pending.delete(reply.id);
      clearTimeout(p.timer);
      p.resolve(reply);
    });
  }

  /** Sends a request to a gateway's REST API (paths under /api/ only; others are refused here, at once). */
  async request(gatewayId: string, req: Omit<ControlRequest, 'id'>, timeoutMs = 5000): Promise<ControlReply> {
    if (!req.path.startsWith('/api/'))
      throw new ControlError('FERRY_CTL_BAD_REQUEST', `only /api/ routes are served over the control channel, not ${req.path}`);
    return this.requestUnchecked(gatewayId, req, timeoutMs);
  }

  /** As request(), without the path check: for tests of what a gateway does with any request. */
  async requestUnchecked(gatewayId: string, req: Omit<ControlRequest, 'id'>, timeoutMs = 5000): Promise<ControlReply> {
    const key = this.keyOf(gatewayId);
    if (key === undefined) throw new ControlError('FERRY_CTL_BAD_REPLY', `no key for gateway ${gatewayId}`);
    const rt = replyTopic(this.prefix, gatewayId);
    if (!this.subscribed.has(rt)) {
      await this.client.subscribeAsync(rt, { qos: 1 });
      this.subscribed.add(rt);
    }
    const id = `${this.sender.ep}-${++this.n}`;
    const tokens = encodeAll(this.sender, key, 'ctl', { id, ...req }, Date.now());
    const reply = new Promise<ControlReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ControlError('FERRY_CTL_TIMEOUT', `gateway ${gatewayId} did not answer ${req.method} ${req.path} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, timer });
    });
    for (const t of tokens) await this.client.publishAsync(requestTopic(this.prefix, gatewayId), t, { qos: 1 });
    return reply;
  }
}
