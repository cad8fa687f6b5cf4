/**
 * @module The gateway API's credential (docs/gateway.md, "HTTP API"): with `api.token_file` set, every route but
 * /health (a probe carries no credential) needs `Authorization: Bearer <token>`, compared in constant time on
 * digests. Requests through the control channel carry it too: they passed the control MAC (serveControl).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../uplink/errors.ts';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export function requireBearer(app: FastifyInstance, token: string): void {
  const want = digest(token);
  app.addHook('onRequest', async (req) => {
    if (req.url === '/health') return;
    const h = req.headers.authorization;
    const given = h?.startsWith('Bearer ') === true ? h.slice(7).trim() : undefined;
    if (given === undefined || !timingSafeEqual(digest(given), want))
      throw new GatewayError('FERRY_GW_UNAUTHORIZED', given === undefined ? 'send Authorization: Bearer <the API token>' : 'wrong API token');
  });
}
