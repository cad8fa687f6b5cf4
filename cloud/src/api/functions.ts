/**
 * @module The REST routes of functions by hash: owners, module upload, white-list and the call protocol
 * ({hash, export, args, namespace, token} in, {value, emits, logs} or a typed FERRY_FN_* error out; the same
 * over MQTT: service/calls.ts). Unknown hash -> FERRY_FN_MODULE_NEEDED: the caller uploads the module bytes
 * once and retries. Errors answer the status their catalog gives the code (docs/errors.md).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { FnError } from '@ferry/wasm-host';
import type { FunctionService } from '../functions/index.ts';

/** A result as the reply: its value, or its error with the status the FERRY_FN_* catalog gives the code. */
const send = (reply: FastifyReply, r: { ok: true; value: unknown } | { ok: false; error: FnError }, okStatus = 200): FastifyReply =>
  r.ok ? reply.code(okStatus).send(r.value) : reply.code(r.error.status).send(r.error.toJSON());

const bearer = (h: string | undefined): string => (h?.startsWith('Bearer ') === true ? h.slice(7) : '');

export function functionRoutes(app: FastifyInstance, fns: FunctionService): void {
  app.addContentTypeParser('application/wasm', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_req, body, done) => done(null, body));
  app.post('/api/owners', async (req, reply) => {
    const t = (req.body as { privateToken?: unknown } | undefined)?.privateToken;
    return send(reply, fns.register(typeof t === 'string' ? t : ''), 201);
  });
  app.post<{ Querystring: { namespace?: string } }>('/api/functions/modules', async (req, reply) => {
    // The code is the call protocol's; the status says what HTTP says of a body of the wrong type.
    if (!(req.body instanceof Buffer)) return reply.code(415).send(new FnError('FERRY_FN_BAD_REQUEST', 'send the module as application/wasm').toJSON());
    return send(
      reply,
      await fns.upload({ bytes: new Uint8Array(req.body), token: bearer(req.headers.authorization), namespace: req.query.namespace ?? '' }),
      201,
    );
  });
  // The owner revokes one of their public tokens, until its exp (Authorization: Bearer <private token>).
  app.post('/api/tokens/revoke', async (req, reply) => {
    const t = (req.body as { token?: unknown } | undefined)?.token;
    const r = fns.revoke(bearer(req.headers.authorization), typeof t === 'string' ? t : '');
    return send(reply, r.ok ? { ok: true as const, value: { revoked: true } } : r);
  });
  app.post('/api/functions/whitelist', async (req, reply) => {
    const b = (req.body ?? {}) as { privateToken?: string; namespace?: string; hash?: string; allowed?: boolean };
    const r = fns.setWhitelisted(b.privateToken ?? '', b.namespace ?? '', b.hash ?? '', b.allowed !== false);
    return send(reply, r.ok ? { ok: true, value: { namespace: b.namespace, hash: b.hash, allowed: b.allowed !== false } } : r);
  });
  app.post('/api/functions/call', async (req, reply) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    return send(
      reply,
      await fns.handleCall({
        hash: String(b['hash'] ?? ''),
        export: String(b['export'] ?? ''),
        args: Array.isArray(b['args']) ? b['args'] : [],
        namespace: String(b['namespace'] ?? ''),
        token: typeof b['token'] === 'string' ? b['token'] : bearer(req.headers.authorization),
      }),
    );
  });
}
