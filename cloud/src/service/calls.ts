/**
 * @module The function-call route of the intake: the call protocol over MQTT. Requests on
 * `<prefix>/fn/<reply-to>/call` (JSON {id, hash, export, args, namespace, token}), answers on
 * `<prefix>/fn/<reply-to>/res` ({id, ok: true, value, emits, logs} or {id, ok: false, error}); the same
 * protocol as POST /api/functions/call (api/functions.ts). When `<reply-to>` is a registered device or
 * gateway the answer is a downlink message signed for it (event `fn.res`, the answer as its body,
 * docs/message-format.md "Downlink"), so the board's host can tell it from one anyone else on the broker
 * publishes; to any other reply-to (tools, tests) it is the plain JSON.
 */
import type { Json } from '@ferry/message';
import type { FunctionService } from '../functions/index.ts';
import { REPLY_TTL_MS, type DownlinkSigner } from './downlink.ts';
import type { Route } from './topic-table.ts';

export function callRoute(fns: FunctionService, prefix: string, publish: (topic: string, payload: string) => void, signer?: DownlinkSigner): Route {
  const re = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/fn/([^/]+)/call$`);
  /** The answer as the reply-to gets it: signed for a device, else JSON (bigints as decimal strings). */
  const answer = (replyTo: string, body: Record<string, unknown>): string | undefined => {
    const text = JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    const signed = signer?.sign(replyTo, 'fn.res', JSON.parse(text) as Json, REPLY_TTL_MS);
    if (signed === undefined) return text;
    if (signed.ok) return signed.value;
    // Too large to sign (a function's output is bounded well below, docs/limits.md): answer the error instead.
    const error = { code: 'FERRY_FN_BAD_REQUEST', message: `the answer cannot be signed: ${signed.error.message}` };
    const small = signer?.sign(replyTo, 'fn.res', { id: (body['id'] ?? null) as Json, ok: false, error }, REPLY_TTL_MS);
    return small?.ok === true ? small.value : undefined;
  };
  return {
    filter: `${prefix}/fn/+/call`,
    ack: false,
    subscribe: true,
    handle: (topic, payload) => {
      const m = re.exec(topic);
      if (m === null) return;
      const replyTo = m[1]!;
      const reply = `${prefix}/fn/${replyTo}/res`;
      const send = (body: Record<string, unknown>): void => {
        const a = answer(replyTo, body);
        if (a !== undefined) publish(reply, a);
      };
      let req: Record<string, unknown>;
      try {
        req = JSON.parse(payload.toString()) as Record<string, unknown>;
        if (typeof req !== 'object' || req === null) throw new Error('not an object');
      } catch {
        send({ ok: false, error: { code: 'FERRY_FN_BAD_REQUEST', message: 'the call is not a JSON object' } });
        return;
      }
      void fns
        .handleCall({
          hash: String(req['hash'] ?? ''),
          export: String(req['export'] ?? ''),
          args: Array.isArray(req['args']) ? req['args'] : [],
          namespace: String(req['namespace'] ?? ''),
          token: String(req['token'] ?? ''),
          // Only a registered device or gateway may publish on its own call topic (the broker's ACLs).
          boundTo: signer?.knows(replyTo) === true ? replyTo : undefined,
        })
        .then((r) => {
          send(r.ok ? { id: req['id'], ok: true, ...r.value } : { id: req['id'], ok: false, error: r.error.toJSON() });
        });
    },
  };
}
