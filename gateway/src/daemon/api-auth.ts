/**
 * @module The gateway API's credential (docs/gateway.md, "HTTP API"): with `api.token_file` set, every route but
 * the probes (/health, /healthz, /readyz: a probe carries no credential) needs `Authorization: Bearer <token>`,
 * compared in constant time on digests. Requests through the control channel carry it too: they passed the
 * control MAC (serveControl).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GatewayError } from '../uplink/errors.ts';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** The routes a probe reaches without a credential (docs/operations.md, "Probes"). */
const PROBES = new Set(['/health', '/healthz', '/readyz']);

const bearerOf = (req: FastifyRequest): string | undefined => {
  const h = req.headers.authorization;
  return h?.startsWith('Bearer ') === true ? h.slice(7).trim() : undefined;
};

/** Whether `req` carries the API token (always true without one: the API is then on loopback only). */
export function bearerMatches(req: FastifyRequest, token: string | undefined): boolean {
  if (token === undefined) return true;
  const given = bearerOf(req);
  return given !== undefined && timingSafeEqual(digest(given), digest(token));
}

export function requireBearer(app: FastifyInstance, token: string): void {
  app.addHook('onRequest', async (req) => {
    if (PROBES.has(req.url.split('?')[0]!)) return;
    if (!bearerMatches(req, token))
      throw new GatewayError('FERRY_GW_UNAUTHORIZED', bearerOf(req) === undefined ? 'send Authorization: Bearer <the API token>' : 'wrong API token');
  });
}
