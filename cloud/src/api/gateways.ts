/**
 * @module Gateways: POST /api/gateways registers one (its key is shown once), GET /api/gateways lists those the
 * caller may see, and /api/gateways/<id>/api/... reaches the rule API of a gateway behind NAT through its
 * control channel, for credentials of the gateway's owner only (reading needs viewer, changing operator). The
 * gateway's answer is passed on as it is; a request that fails on the way answers its FERRY_CTL_* code with
 * the status the control catalog gives it (docs/errors.md), and anything else that failed on the way is a
 * 504: the gateway's answer did not come.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '@ferry/rules-host';
import { ControlError } from '@ferry/mqtt-rest';
import type { DeviceRegistry } from '../devices/registry.ts';
import type { FunctionService } from '../functions/index.ts';
import { AuthError } from '../identity/errors.ts';
import type { Identity } from '../identity/identity.ts';
import { mayActOn } from '../identity/principal.ts';
import { principalOf } from './auth.ts';
import { deviceFor } from './devices.ts';

export type GatewayRequest = (gatewayId: string, method: 'GET' | 'POST', path: string, body?: unknown) => Promise<{ status: number; body: unknown }>;

export function gatewayRoutes(app: FastifyInstance, request: GatewayRequest, devices: DeviceRegistry, fns: FunctionService, identity: Identity): void {
  app.post('/api/gateways', { config: { access: 'admin' } }, async (req, reply) => {
    const b = (req.body ?? {}) as { id?: unknown; owner?: unknown };
    if (typeof b.id !== 'string') {
      const e = new ApiError('FERRY_API_BAD_REQUEST', 'body must be {"id": "<gateway id>", "owner"?: "<owner id>", "boards"?: ["<device id>", ...]}');
      return reply.code(e.status).send({ ...e.toJSON(), path: 'id' });
    }
    const owner = identity.ownerFor(principalOf(req), b.owner);
    if (owner !== undefined && fns.owners.publicKey(owner) === undefined) throw new AuthError('FERRY_AUTH_NOT_FOUND', `no owner ${owner}`);
    return reply.code(201).send(devices.add(b.id, undefined, Date.now(), owner));
  });
  app.get('/api/gateways', { config: { access: 'viewer' } }, async (req) => {
    const p = principalOf(req);
    return devices.list().filter((d) => mayActOn(p, d.owner, 'viewer'));
  });
  app.route({
    method: ['GET', 'POST'],
    url: '/api/gateways/:gw/*',
    config: { access: 'viewer' },
    handler: async (req, reply) => {
      const { gw, '*': rest } = req.params as { gw: string; '*': string };
      deviceFor(devices, principalOf(req), gw, req.method === 'GET' ? 'viewer' : 'operator');
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
