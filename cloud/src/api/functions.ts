/**
 * @module The REST routes of functions by hash: owners, module upload, white-list and the call protocol
 * ({hash, export, args, namespace, token} in, {value, emits, logs} or a typed FERRY_FN_* error out; the same
 * over MQTT: service/calls.ts). Unknown hash -> FERRY_FN_MODULE_NEEDED: the caller uploads the module bytes
 * once and retries.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { FnError } from '@ferry/wasm-host';
import type { FunctionService } from '../functions/index.ts';

/** HTTP status for each error: the code says what, the status says whose move it is. */
export function statusOf(e: FnError): number {
  switch (e.code) {
    case 'FERRY_FN_BAD_TOKEN': case 'FERRY_FN_TOKEN_EXPIRED': case 'FERRY_FN_TOKEN_REVOKED': return 401;
    case 'FERRY_FN_FORBIDDEN_NAMESPACE': case 'FERRY_FN_NOT_WHITELISTED': case 'FERRY_FN_SCHEDULE_FORBIDDEN': return 403;
    case 'FERRY_FN_MODULE_NEEDED': case 'FERRY_FN_NO_SUCH_EXPORT': case 'FERRY_FN_NO_SUCH_SCHEDULE': return 404;
    case 'FERRY_FN_OWNER_EXISTS': return 409;
    case 'FERRY_FN_QUOTA': return 403;
    case 'FERRY_FN_MODULE_TOO_LARGE': return 413;
    case 'FERRY_FN_TRAP': case 'FERRY_FN_MEMORY_EXCEEDED': return 422;
    case 'FERRY_FN_RATE_LIMITED': case 'FERRY_FN_BUSY': return 429;
    case 'FERRY_FN_TIMEOUT': return 504;
    case 'FERRY_FN_UNAVAILABLE': return 503;
    default: return 400;
  }
}

const send = (reply: FastifyReply, r: { ok: true; value: unknown } | { ok: false; error: FnError }, okStatus = 200): FastifyReply =>
  r.ok ? reply.code(okStatus).send(r.value) : reply.code(statusOf(r.error)).send(r.error.toJSON());

const bearer = (h: string | undefined): string => (h?.startsWith('Bearer ') === true ? h.slice(7) : '');

export function functionRoutes(app: FastifyInstance, fns: FunctionService): void {
  app.addContentTypeParser('application/wasm', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_req, body, done) => done(null, body));
  app.post('/api/owners', async (req, reply) => {
    const t = (req.body as { privateToken?: unknown } | undefined)?.privateToken;
    return send(reply, fns.register(typeof t === 'string' ? t : ''), 201);
  });
  app.post<{ Querystring: { namespace?: string } }>('/api/functions/modules', async (req, reply) => {
    if (!(req.body instanceof Buffer)) return reply.code(415).send({ code: 'FERRY_FN_BAD_REQUEST', message: 'send the module as application/wasm' });
    return send(reply, await fns.upload({ bytes: new Uint8Array(req.body), token: bearer(req.headers.authorization), namespace: req.query.namespace ?? '' }), 201);
  });
  app.post('/api/functions/whitelist', async (req, reply) => {
    const b = (req.body ?? {}) as { privateToken?: string; namespace?: string; hash?: string; allowed?: boolean };
    const r = fns.setWhitelisted(b.privateToken ?? '', b.namespace ?? '', b.hash ?? '', b.allowed !== false);
    return send(reply, r.ok ? { ok: true, value: { namespace: b.namespace, hash: b.hash, allowed: b.allowed !== false } } : r);
  });
  app.post('/api/functions/call', async (req, reply) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    return send(reply, await fns.handleCall({
      hash: String(b['hash'] ?? ''), export: String(b['export'] ?? ''), args: Array.isArray(b['args']) ? b['args'] : [],
      namespace: String(b['namespace'] ?? ''), token: typeof b['token'] === 'string' ? b['token'] : bearer(req.headers.authorization),
    }));
  });
}
