/**
 * @module The gateway's end of the control channel: verifies each request (control key, direction, this
 * gateway, a fresh timestamp, an id never served), records its id durably, runs it on the local REST routes
 * and answers with a reply bound to the same request id. Refusals are reported through `onRefused`.
 */
import type { FastifyInstance } from 'fastify';
import type { MqttClient } from 'mqtt';
import type { MessageErrorCode } from '@ferry/message';
import { DEFAULT_MAX_AGE_MS, replyTopic, requestTopic, type ControlReply, type ControlRequest } from './channel.ts';
import { openPart, Reassembler, seal, type Sender } from './envelope.ts';
import type { ControlErrorCode } from './errors.ts';
import { controlKey } from './keys.ts';
import type { ReplayWindow } from './replay.ts';

export interface ServeControlOptions {
  readonly client: MqttClient;
  readonly app: FastifyInstance;
  /**
   * Headers added to every request the channel hands the app (the gateway's own API credential): a request
   * that passed the control MAC is the cloud's, and the app's authentication must let it through.
   */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly gatewayId: string;
  /** The gateway key (its readings' key); the control key is derived from it (keys.ts), never the key itself. */
  readonly gatewayKey: Uint8Array;
  /** Request ids served; the daemon's lives in its data directory so a restart forgets none. */
  readonly replay: ReplayWindow;
  readonly prefix?: string;
  /** A request whose timestamp is further than this from the gateway's clock, either way, is refused. */
  readonly maxAgeMs?: number;
  readonly now?: () => number;
  /** A refused request: why, as a catalog code (a token that fails verification keeps its FERRY_MSG_* code). */
  readonly onRefused?: (why: ControlErrorCode | MessageErrorCode) => void;
}

/** Serves control requests with the local REST routes. Returns a stop function. */
export async function serveControl(o: ServeControlOptions): Promise<() => Promise<void>> {
  const prefix = o.prefix ?? 'ferry';
  const now = o.now ?? Date.now;
  const maxAgeMs = o.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const key = controlKey(o.gatewayKey, o.gatewayId);
  const topic = requestTopic(prefix, o.gatewayId);
  // Replies: a fresh epoch per serving session, so (kid, ep, sq) never repeats.
  const sender: Sender = { kid: `${o.gatewayId}.ctl`.slice(0, 32), ep: Math.floor(now() / 1000), sq: 0, group: 0 };
  const parts = new Reassembler();
  const refuse = (why: ControlErrorCode | MessageErrorCode): void => o.onRefused?.(why);
  const answer = (rid: string, reply: Omit<ControlReply, 'id'>): void => {
    for (const t of seal(sender, key, { ev: 'ctl-res', gw: o.gatewayId, rid }, { id: rid, ...reply }, now()))
      o.client.publish(replyTopic(prefix, o.gatewayId), t, { qos: 1 });
  };
  const onMessage = (t: string, payload: Buffer): void => {
    if (t !== topic) return;
    const p = openPart(payload, key, { ev: 'ctl-req', gw: o.gatewayId });
    if (!p.ok) {
      refuse(p.code);
      return;
    }
    const { rid, iat } = p.part;
    const at = now();
    // Every part is checked for freshness and replay before it is kept, not only the last one.
    if (Math.abs(at - iat * 1000) > maxAgeMs) {
      refuse('FERRY_CTL_STALE');
      return;
    }
    let served: boolean;
    try {
      served = o.replay.has(rid, at);
    } catch {
      refuse('FERRY_CTL_BUSY'); // the window cannot be read: a replay cannot be ruled out, so nothing runs
      return;
    }
    if (served) {
      refuse('FERRY_CTL_REPLAY');
      return;
    }
    let d: Partial<ControlRequest> | undefined;
    try {
      d = parts.add(p.part, at) as Partial<ControlRequest> | undefined;
    } catch {
      refuse('FERRY_CTL_BAD_REQUEST');
      return;
    }
    if (d === undefined && p.part.header.group !== undefined) return; // more parts to come
    if (d === undefined || d.id !== rid || (d.method !== 'GET' && d.method !== 'POST') || typeof d.path !== 'string') {
      refuse('FERRY_CTL_BAD_REQUEST');
      return;
    }
    // Remembered until its timestamp is stale (then the timestamp alone refuses it), durably, before it runs.
    let added: 'added' | 'full';
    try {
      added = o.replay.add(rid, iat * 1000 + maxAgeMs, at);
    } catch {
      added = 'full';
    }
    if (added === 'full') {
      refuse('FERRY_CTL_BUSY');
      answer(rid, { status: 503, body: { code: 'FERRY_CTL_BUSY', message: 'the replay window is full or cannot be written; nothing ran' } });
      return;
    }
    // Only the REST API is reachable this way. A verified request for anything else is answered with a
    // refusal at once, so the caller learns why instead of waiting for its timeout.
    if (!d.path.startsWith('/api/')) {
      refuse('FERRY_CTL_FORBIDDEN_PATH');
      answer(rid, { status: 403, body: { code: 'FERRY_CTL_FORBIDDEN_PATH', message: `only /api/ routes are served over the control channel, not ${d.path}` } });
      return;
    }
    void o.app
      .inject({
        method: d.method,
        url: d.path,
        ...(o.headers !== undefined && { headers: { ...o.headers } }),
        ...(d.body !== undefined && { payload: d.body as object }),
      })
      .then((res) => {
        let body: unknown;
        try {
          body = res.json();
        } catch {
          body = res.body;
        }
        answer(rid, { status: res.statusCode, body });
      });
  };
  o.client.on('message', onMessage);
  await o.client.subscribeAsync(topic, { qos: 1 });
  return async () => {
    o.client.removeListener('message', onMessage);
    await o.client.unsubscribeAsync(topic).catch(() => undefined);
  };
}
