/**
 * @module Authentication and authorization of every HTTP route, in one place (docs/security.md, "HTTP"). Each
 * route declares what it needs in its config, `access`:
 * - `public`: nothing (liveness, logging in, redeeming an invitation);
 * - `viewer` | `operator` | `admin`: a credential with at least that role; which owner's objects it may touch
 *   the route checks against `req.principal` (mayActOn);
 * - `global`: the cloud's admin (or a global admin token); also what an undeclared route needs, so a route
 *   added without thinking is closed, not open; `global:viewer` / `global:operator`: a global credential (one
 *   of no owner) with at least that role;
 * - `fn`: the function-call protocol's own tokens (an owner's private token or a public token, in the body or
 *   as Bearer), checked by the function service; an API credential is resolved here too when one is sent.
 *   `fn-bearer`: the same, but the token can only come as Bearer (a module upload), so a request without one
 *   is refused before its body (up to 1 MiB) is read.
 * A credential is `Authorization: Bearer <credential>` or the `ferry_session` cookie (POST /api/session); a
 * request that changes something with the cookie alone must carry this origin's Origin header. The
 * hook runs on onRequest, before the body is read: an anonymous caller costs no parsing. A public route still
 * sees the principal of a credential that was sent. Rate limits are per
 * credential (per address without one), after authentication, by @fastify/rate-limit; refused requests per
 * address, in the hook.
 */
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import { SAFE_METHODS, sameOrigin } from '@ferry/dashboard/origin';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { TokenBuckets } from '@ferry/base';
import { AuthError } from '../identity/errors.ts';
import type { Identity } from '../identity/identity.ts';
import { roleAtLeast, type Principal, type Role } from '../identity/principal.ts';

export type Access = 'public' | Role | 'global' | `global:${Role}` | 'fn' | 'fn-bearer';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

export const SESSION_COOKIE = 'ferry_session';

/** Requests per second per credential (per address for anonymous ones), docs/limits.md. */
export interface HttpRates {
  readonly perCredential: number;
  readonly anonymous: number;
}
export const HTTP_RATES: HttpRates = { perCredential: 200, anonymous: 20 };

export const bearerOf = (req: FastifyRequest): string | undefined => {
  const h = req.headers.authorization;
  return h?.startsWith('Bearer ') === true ? h.slice(7).trim() : undefined;
};

/** A route as registered, with the access it declared (what the tests check every route against). */
export interface DeclaredRoute {
  readonly method: string;
  readonly url: string;
  readonly access: Access;
}

const declared = new WeakMap<FastifyInstance, RouteOptions[]>();

/** Every route of an app that went through `authenticate`, with its access (as the route ended up with it). */
export const declaredRoutes = (app: FastifyInstance): readonly DeclaredRoute[] =>
  (declared.get(app) ?? []).flatMap((r) =>
    [r.method].flat().flatMap((method) => (method === 'HEAD' ? [] : [{ method, url: r.url, access: r.config?.access ?? 'global' }])),
  );

export async function authenticate(app: FastifyInstance, identity: Identity, rates: HttpRates = HTTP_RATES): Promise<void> {
  const routes: RouteOptions[] = [];
  declared.set(app, routes);
  app.addHook('onRoute', (r) => {
    routes.push(r);
  });
  const refused = new TokenBuckets({ maxEntries: 100_000 });
  await app.register(cookie);
  app.addHook('onRequest', async (req) => {
    const access: Access = req.routeOptions.config?.access ?? 'global';
    const bearer = bearerOf(req);
    const sid = req.cookies[SESSION_COOKIE];
    const principal = bearer !== undefined ? identity.resolve(bearer) : sid !== undefined ? identity.session(sid) : undefined;
    if (principal !== undefined) req.principal = principal;
    // A change made with the cookie alone must come from this origin's pages (@ferry/dashboard/origin).
    if (principal !== undefined && bearer === undefined && !SAFE_METHODS.has(req.method) && !sameOrigin(req))
      throw new AuthError('FERRY_AUTH_ORIGIN', "a change made with the session cookie must come from this cloud's own pages (Origin header)");
    // The function routes take tokens this hook does not know (public tokens, a token in the body): the
    // function service checks them and answers its own FERRY_FN_* codes.
    if (access === 'fn-bearer' && bearer === undefined && sid === undefined)
      throw new AuthError('FERRY_AUTH_REQUIRED', 'send the token as Authorization: Bearer <token>');
    if (access === 'fn' || access === 'fn-bearer' || access === 'public') return;
    if (principal === undefined) {
      // Refusals are cheap (no body is read), but are still paced per address, so guessing is slow too.
      if (!refused.take(req.ip, rates.anonymous, rates.anonymous))
        throw new AuthError('FERRY_AUTH_RATE_LIMITED', `more than ${rates.anonymous} refused requests per second from this address`);
      throw bearer === undefined && sid === undefined
        ? new AuthError('FERRY_AUTH_REQUIRED', 'send Authorization: Bearer <credential>, or log in (POST /api/session)')
        : new AuthError('FERRY_AUTH_BAD_CREDENTIAL', 'the credential is unknown, expired or revoked');
    }
    const global = access.startsWith('global');
    const need: Role = access === 'global' ? 'admin' : global ? (access.slice(7) as Role) : (access as Role);
    if (!roleAtLeast(principal.role, need) || (global && principal.owner !== undefined))
      throw new AuthError('FERRY_AUTH_FORBIDDEN', global ? `this route needs a global credential with the ${need} role` : `this route needs the ${need} role`);
  });
  await app.register(rateLimit, {
    hook: 'preHandler',
    timeWindow: 1000,
    max: (req) => (req.principal === undefined ? rates.anonymous : rates.perCredential),
    keyGenerator: (req) => req.principal?.id ?? `ip:${req.ip}`,
    errorResponseBuilder: (_req, ctx) => new AuthError('FERRY_AUTH_RATE_LIMITED', `more than ${ctx.max} requests per second; retry in ${ctx.after}`),
  });
}

/** The principal of a request the hook let through (a route whose access is not public or fn). */
export function principalOf(req: FastifyRequest): Principal {
  const p = req.principal;
  if (p === undefined) throw new AuthError('FERRY_AUTH_REQUIRED', 'no credential');
  return p;
}
