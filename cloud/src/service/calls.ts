/**
 * @module The function-call route of the intake: the call protocol over MQTT. Requests on
 * `<prefix>/fn/<reply-to>/call` (JSON {id, hash, export, args, namespace, token}), answers on
 * `<prefix>/fn/<reply-to>/res` ({id, ok: true, value, emits, logs} or {id, ok: false, error}); the same
 * protocol as POST /api/functions/call (api/functions.ts).
 */
import type { FunctionService } from '../functions/index.ts';
import type { Route } from './topic-table.ts';

export function callRoute(fns: FunctionService, prefix: string, publish: (topic: string, payload: string) => void): Route {
  const re = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/fn/([^/]+)/call$`);
  return {
    filter: `${prefix}/fn/+/call`,
    ack: false,
    subscribe: true,
    handle: (topic, payload) => {
      const m = re.exec(topic);
      if (m === null) return;
      const reply = `${prefix}/fn/${m[1]}/res`;
      let req: Record<string, unknown>;
      try {
        req = JSON.parse(payload.toString()) as Record<string, unknown>;
        if (typeof req !== 'object' || req === null) throw new Error('not an object');
      } catch {
        publish(reply, JSON.stringify({ ok: false, error: { code: 'FERRY_FN_BAD_REQUEST', message: 'the call is not a JSON object' } }));
        return;
      }
      void fns
        .handleCall({
          hash: String(req['hash'] ?? ''),
          export: String(req['export'] ?? ''),
          args: Array.isArray(req['args']) ? req['args'] : [],
          namespace: String(req['namespace'] ?? ''),
          token: String(req['token'] ?? ''),
        })
        .then((r) => {
          const body = r.ok ? { id: req['id'], ok: true, ...r.value } : { id: req['id'], ok: false, error: r.error.toJSON() };
          publish(
            reply,
            JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
          );
        });
    },
  };
}
