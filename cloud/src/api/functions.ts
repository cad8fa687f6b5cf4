/**
 * @module The REST routes of functions by hash: module upload, white-list, token revocation and the call
 * protocol ({hash, export, args, namespace, token} in, {value, emits, logs} or a typed FERRY_FN_* error out; the
 * same over MQTT: service/calls.ts). The function tokens (an owner's private token, a public token) are the
 * credential here, in the body or as Bearer, checked by the function service; an API token or session of the
 * owner works too (operator role to call and upload, admin to white-list and revoke). Unknown hash ->
 * FERRY_FN_MODULE_NEEDED: the caller uploads the module bytes once and retries. Errors answer the status
 * their catalog gives the code (docs/errors.md). Owners are registered by the identity routes (identity.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FnError } from '@ferry/wasm-host';
import type { FunctionService } from '../functions/index.ts';
import { AuthError } from '../identity/errors.ts';
import { roleAtLeast, type Role } from '../identity/principal.ts';
import { bearerOf } from './auth.ts';

/** A result as the reply: its value, or its error with the status the FERRY_FN_* catalog gives the code. */
const send = (reply: FastifyReply, r: { ok: true; value: unknown } | { ok: false; error: FnError }, okStatus = 200): FastifyReply =>
  r.ok ? reply.code(okStatus).send(r.value) : reply.code(r.error.status).send(r.error.toJSON());

/**
 * The owner an API credential of the request acts for, when it needs `need` (undefined: no API credential; the
 * function token decides). The cloud's admin acts on functions only through an owner's credential.
 */
function asOwner(req: FastifyRequest, need: Role): string | undefined {
  const p = req.principal;
  if (p === undefined) return undefined;
  if (p.owner === undefined) throw new AuthError('FERRY_AUTH_FORBIDDEN', "functions belong to owners: use an owner's credential");
  if (!roleAtLeast(p.role, need)) throw new AuthError('FERRY_AUTH_FORBIDDEN', `this route needs the ${need} role`);
  return p.owner;
}

/** A function token sent as Bearer, when the HTTP layer did not recognise it as an API credential. */
const fnBearer = (req: FastifyRequest): string => (req.principal === undefined ? (bearerOf(req) ?? '') : '');

const fn = { config: { access: 'fn' as const, rateLimit: false as const } };
const fnBearerOnly = { config: { access: 'fn-bearer' as const, rateLimit: false as const } };

export function functionRoutes(app: FastifyInstance, fns: FunctionService): void {
  app.addContentTypeParser('application/wasm', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_req, body, done) => done(null, body));
  app.post<{ Querystring: { namespace?: string } }>('/api/functions/modules', fnBearerOnly, async (req, reply) => {
    const owner = asOwner(req, 'operator');
    // The code is the call protocol's; the status says what HTTP says of a body of the wrong type.
    if (!(req.body instanceof Buffer)) return reply.code(415).send(new FnError('FERRY_FN_BAD_REQUEST', 'send the module as application/wasm').toJSON());
    return send(reply, await fns.upload({ bytes: new Uint8Array(req.body), token: fnBearer(req), namespace: req.query.namespace ?? '', asOwner: owner }), 201);
  });
  // The owner revokes one of their public tokens, until its exp (Authorization: Bearer <private token>).
  app.post('/api/tokens/revoke', fn, async (req, reply) => {
    const t = (req.body as { token?: unknown } | undefined)?.token;
    const owner = asOwner(req, 'admin');
    const publicToken = typeof t === 'string' ? t : '';
    const r = owner !== undefined ? fns.revokeAs(owner, publicToken) : fns.revoke(fnBearer(req), publicToken);
    return send(reply, r.ok ? { ok: true as const, value: { revoked: true } } : r);
  });
  app.post('/api/functions/whitelist', fn, async (req, reply) => {
    const b = (req.body ?? {}) as { privateToken?: string; namespace?: string; hash?: string; allowed?: boolean };
    const allowed = b.allowed !== false;
    const owner = b.privateToken === undefined ? asOwner(req, 'admin') : undefined;
    const r =
      owner !== undefined
        ? fns.setWhitelistedAs(owner, b.namespace ?? '', b.hash ?? '', allowed)
        : fns.setWhitelisted(b.privateToken ?? fnBearer(req), b.namespace ?? '', b.hash ?? '', allowed);
    return send(reply, r.ok ? { ok: true, value: { namespace: b.namespace, hash: b.hash, allowed } } : r);
  });
  app.post('/api/functions/call', fn, async (req, reply) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const token = typeof b['token'] === 'string' ? b['token'] : fnBearer(req);
    return send(
      reply,
      await fns.handleCall({
        hash: String(b['hash'] ?? ''),
        export: String(b['export'] ?? ''),
        args: Array.isArray(b['args']) ? b['args'] : [],
        namespace: String(b['namespace'] ?? ''),
        token,
        asOwner: token === '' ? asOwner(req, 'operator') : undefined,
      }),
    );
  });
}
