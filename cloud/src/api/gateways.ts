/**
 * @module The rule API of a gateway behind NAT, through its control channel: /api/gateways/<id>/api/...
 * The gateway's answer is passed on as it is; a request that fails on the way answers its FERRY_CTL_* code
 * with the status the control catalog gives it (docs/errors.md), and anything else that failed on the way
 * is a 504: the gateway's answer did not come.
 */
import type { FastifyInstance } from 'fastify';
import { ControlError } from '@ferry/mqtt-rest';

export type GatewayRequest = (gatewayId: string, method: 'GET' | 'POST', path: string, body?: unknown) => Promise<{ status: number; body: unknown }>;

export function gatewayRoutes(app: FastifyInstance, request: GatewayRequest): void {
  app.route({
    method: ['GET', 'POST'],
    url: '/api/gateways/:gw/*',
    handler: async (req, reply) => {
      const { gw, '*': rest } = req.params as { gw: string; '*': string };
      try {
        const r = await request(gw, req.method as 'GET' | 'POST', `/${rest}`, req.body);
        return await reply.code(r.status).send(r.body);
      } catch (e) {
        const error = e instanceof ControlError ? e : new ControlError('FERRY_CTL_TIMEOUT', (e as Error).message, { cause: e });
        return reply.code(error.status).send(error.toJSON());
      }
    },
  });
}
