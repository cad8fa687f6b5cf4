/**
 * @module The identity routes (docs/security.md): sessions for browsers, owners, invitations and API tokens.
 * - POST /api/session {token}: sets the httpOnly `ferry_session` cookie; GET shows who you are; DELETE logs out.
 * - POST /api/owners: the admin registers an owner by id (the cloud makes its private token and answers it
 *   once) or by the private token the owner made themselves; anyone holding an invitation registers the
 *   owner it names. POST /api/invitations: the admin invites an owner.
 * - POST /api/tokens mints an API token with a role; GET lists them; DELETE /api/tokens/:id revokes one.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { FunctionService } from '../functions/index.ts';
import { generatePrivateToken, parsePrivateToken } from '../functions/tokens/private-token.ts';
import { AuthError } from '../identity/errors.ts';
import type { Identity } from '../identity/identity.ts';
import { KID_PATTERN } from '@ferry/message';
import { principalOf, SESSION_COOKIE } from './auth.ts';

const body = (b: unknown): Record<string, unknown> => (typeof b === 'object' && b !== null ? (b as Record<string, unknown>) : {});

export function identityRoutes(app: FastifyInstance, identity: Identity, fns: FunctionService): void {
  app.post('/api/session', { config: { access: 'public' } }, async (req, reply) => {
    const token = body(req.body)['token'];
    const p = typeof token === 'string' ? identity.resolve(token) : undefined;
    if (p === undefined) throw new AuthError('FERRY_AUTH_BAD_CREDENTIAL', 'body must be {"token": "<a valid credential>"}');
    const s = identity.openSession(p);
    // SameSite=Strict: another site's page cannot make the browser send it (no CSRF on cookie-authenticated calls).
    void reply.setCookie(SESSION_COOKIE, s.id, {
      httpOnly: true,
      sameSite: 'strict',
      path: '/',
      secure: req.protocol === 'https',
      expires: new Date(s.expiresMs),
    });
    return { owner: p.owner ?? null, role: p.role, expiresMs: s.expiresMs };
  });
  app.get('/api/session', { config: { access: 'viewer' } }, async (req) => {
    const p = principalOf(req);
    return { owner: p.owner ?? null, role: p.role, via: p.via };
  });
  app.delete('/api/session', { config: { access: 'public' } }, async (req, reply) => {
    const sid = req.cookies[SESSION_COOKIE];
    if (sid !== undefined) identity.closeSession(sid);
    return reply.clearCookie(SESSION_COOKIE, { path: '/' }).code(204).send();
  });

  app.post('/api/owners', { config: { access: 'public' } }, async (req, reply) => {
    const b = body(req.body);
    const invitation = b['invitation'];
    let allowedOwner: string | undefined; // undefined: the admin, any owner id
    if (typeof invitation === 'string') {
      const owner = identity.redeem(invitation);
      if (owner === undefined) throw new AuthError('FERRY_AUTH_BAD_CREDENTIAL', 'the invitation is unknown, used or expired');
      allowedOwner = owner;
    } else {
      const p = req.principal;
      if (p === undefined) throw new AuthError('FERRY_AUTH_REQUIRED', "registering an owner needs the cloud admin's credential or an invitation");
      if (p.owner !== undefined || p.role !== 'admin') throw new AuthError('FERRY_AUTH_FORBIDDEN', "registering an owner is the cloud admin's");
    }
    return register(reply, fns, b, allowedOwner);
  });

  app.post('/api/invitations', { config: { access: 'global' } }, async (req, reply) => reply.code(201).send(identity.invite(principalOf(req), body(req.body))));
  app.post('/api/tokens', { config: { access: 'admin' } }, async (req, reply) => reply.code(201).send(identity.mint(principalOf(req), body(req.body))));
  app.get('/api/tokens', { config: { access: 'admin' } }, async (req) => identity.tokens(principalOf(req)));
  app.delete<{ Params: { id: string } }>('/api/tokens/:id', { config: { access: 'admin' } }, async (req) => {
    identity.revoke(principalOf(req), req.params.id);
    return { id: req.params.id, revoked: true };
  });
}

/** Registers {id} (a private token made here, answered once) or {privateToken} (made by the owner). */
function register(reply: FastifyReply, fns: FunctionService, b: Record<string, unknown>, allowedOwner: string | undefined): FastifyReply {
  const given = b['privateToken'];
  let privateToken: string;
  if (typeof given === 'string') {
    const parsed = parsePrivateToken(given);
    if (!parsed.ok) return reply.code(parsed.error.status).send(parsed.error.toJSON());
    privateToken = given;
  } else {
    const id = b['id'] ?? allowedOwner;
    if (typeof id !== 'string' || !KID_PATTERN.test(id))
      throw new AuthError('FERRY_AUTH_BAD_REQUEST', 'body must be {"id": "<owner id>"} or {"privateToken": "ferry_sk.<owner>.<secret>"}');
    privateToken = generatePrivateToken(id);
  }
  const owner = privateToken.split('.')[1];
  if (allowedOwner !== undefined && owner !== allowedOwner) throw new AuthError('FERRY_AUTH_FORBIDDEN', `the invitation is for owner ${allowedOwner}`);
  const r = fns.register(privateToken);
  if (!r.ok) return reply.code(r.error.status).send(r.error.toJSON());
  return reply.code(201).send({ owner: r.value.owner, ...(typeof given !== 'string' && { privateToken }) });
}
