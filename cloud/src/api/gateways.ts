/** @module The rule API of a gateway behind NAT, through its control channel: /api/gateways/<id>/api/... */
import type { FastifyInstance } from 'fastify';

export type GatewayRequest = (gatewayId: string, method: 'GET' | 'POST', path: string, body?: unknown) => Promise<{ status: number; body: unknown }>;

export function gatewayRoutes(app: FastifyInstance, request: GatewayRequest): void {
  app.route({
    method: ['GET', 'POST'], url: '/api/gateways/:gw/*',
    handler: async (req, reply) => {
      const { gw, '*': rest } = req.params as { gw: string; '*': string };
      try {
        const r = await request(gw, req.method as 'GET' | 'POST', `/${rest}`, req.body);
        return await reply.code(r.status).send(r.body);
      } catch (e) {
        return reply.code(504).send({ code: (e as { code?: string }).code ?? 'FERRY_CTL_TIMEOUT', message: (e as Error).message });
      }
    },
  });
}
