/**
 * @module The gateway API's credential (docs/gateway.md, "HTTP API"): with `api.token_file` set, every route but
 * the probes (/health, /healthz, /readyz: a probe carries no credential) needs `Authorization: Bearer <token>`,
 * compared in constant time on digests. Requests through the control channel carry it too: they passed the
 * control MAC (serveControl). A browser sends instead the dashboard's session cookie (dashboard/dashboard.ts), and
 * reaches the dashboard's pages and its login without either.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TokenBuckets } from '@ferry/base';
import { GatewayError } from '../uplink/errors.ts';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** The routes a probe reaches without a credential (docs/operations.md, "Probes"). */
const PROBES = new Set(['/health', '/healthz', '/readyz']);

const bearerOf = (req: FastifyRequest): string | undefined => {
  const h = req.headers.authorization;
  return h?.startsWith('Bearer ') === true ? h.slice(7).trim() : undefined;
};

/** Whether `given` is the API token, in constant time. */
export const tokenMatches = (given: string, token: string): boolean => timingSafeEqual(digest(given), digest(token));

/** Whether `req` carries the API token (always true without one: the API is then on loopback only). */
export function bearerMatches(req: FastifyRequest, token: string | undefined): boolean {
  if (token === undefined) return true;
  const given = bearerOf(req);
  return given !== undefined && tokenMatches(given, token);
}

/** Credentials other than the bearer: the dashboard's open routes and its session cookie. */
export interface OtherCredentials {
  isOpen(req: FastifyRequest): boolean;
  /** Whether the request carries a current session (may throw a refusal of its own). */
  session(req: FastifyRequest): boolean;
}

/** Refused requests per second from one address before it is paced (docs/limits.md). */
export const REFUSED_PER_SECOND = 20;

export function requireBearer(app: FastifyInstance, token: string, other?: OtherCredentials): void {
  const refused = new TokenBuckets({ maxEntries: 10_000 });
  app.addHook('onRequest', async (req) => {
    if (PROBES.has(req.url.split('?')[0]!) || other?.isOpen(req) === true) return;
    if (bearerMatches(req, token) || other?.session(req) === true) return;
    // Refusals are cheap (no body is read), but are still paced per address, so guessing the token is slow too.
    if (!refused.take(req.ip, REFUSED_PER_SECOND, REFUSED_PER_SECOND))
      throw new GatewayError('FERRY_GW_RATE_LIMITED', `more than ${REFUSED_PER_SECOND} refused requests per second from this address`);
    const hint = other === undefined ? '' : ', or log in (POST /api/session)';
    throw new GatewayError('FERRY_GW_UNAUTHORIZED', bearerOf(req) === undefined ? `send Authorization: Bearer <the API token>${hint}` : 'wrong API token');
  });
}
