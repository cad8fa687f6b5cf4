/**
 * @module Gateways: POST /api/gateways registers one with the boards behind it (every key and MQTT login is
 * shown once), GET /api/gateways lists those the caller may see with their boards, and /api/gateways/<id>/api/... reaches the rule API of a gateway behind NAT through its
 * control channel, for credentials of the gateway's owner only (reading needs viewer, changing operator). The
 * gateway's answer is passed on as it is; a request that fails on the way answers its FERRY_CTL_* code with
 * the status the control catalog gives it (docs/errors.md), and anything else that failed on the way is a
 * 504: the gateway's answer did not come.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '@ferry/rules-host';
import { ControlError } from '@ferry/mqtt-rest';
import { DeviceError } from '../devices/errors.ts';
import type { DeviceRegistry } from '../devices/registry.ts';
import type { FunctionService } from '../functions/index.ts';
import { AuthError } from '../identity/errors.ts';
import type { Identity } from '../identity/identity.ts';
import { mayActOn } from '../identity/principal.ts';
import { principalOf } from './auth.ts';
import { deviceFor, withMqtt } from './devices.ts';

export type GatewayRequest = (gatewayId: string, method: 'GET' | 'POST', path: string, body?: unknown) => Promise<{ status: number; body: unknown }>;

export function gatewayRoutes(app: FastifyInstance, request: GatewayRequest, devices: DeviceRegistry, fns: FunctionService, identity: Identity): void {
  app.post('/api/gateways', { config: { access: 'admin' } }, async (req, reply) => {
    const b = (req.body ?? {}) as { id?: unknown; owner?: unknown; namespace?: unknown; boards?: unknown };
    const boards = b.boards ?? [];
    if (typeof b.id !== 'string' || !Array.isArray(boards) || boards.length > 256 || !boards.every((x) => typeof x === 'string')) {
      const e = new ApiError(
        'FERRY_API_BAD_REQUEST',
        'body must be {"id": "<gateway id>", "owner"?: "<owner id>", "namespace"?: "<ns>", "boards"?: ["<new board id>", ...] (at most 256)}',
      );
      return reply.code(e.status).send({ ...e.toJSON(), path: typeof b.id !== 'string' ? 'id' : 'boards' });
    }
    const owner = identity.ownerFor(principalOf(req), b.owner);
    if (owner !== undefined && fns.owners.publicKey(owner) === undefined) throw new AuthError('FERRY_AUTH_NOT_FOUND', `no owner ${owner}`);
    // The boards behind it are provisioned with it (each its own key), so the gateway may publish for them;
    // all ids are checked first, so a taken one changes nothing.
    for (const id of [b.id, ...(boards as string[])])
      if (devices.info(id) !== undefined) throw new DeviceError('FERRY_DEVICE_EXISTS', `device ${id} exists; remove it first to re-key`);
    const namespace = typeof b.namespace === 'string' ? b.namespace : undefined;
    const gateway = withMqtt(devices.add(b.id, namespace, Date.now(), owner, { kind: 'gateway' }));
    const attached = (boards as string[]).map((id) => withMqtt(devices.add(id, namespace, Date.now(), owner, { gateway: b.id as string })));
    return reply.code(201).send({ ...gateway, boards: attached });
  });
  app.get('/api/gateways', { config: { access: 'viewer' } }, async (req) => {
    const p = principalOf(req);
    const all = devices.list().filter((d) => mayActOn(p, d.owner, 'viewer'));
    return all.filter((d) => d.kind === 'gateway').map((g) => ({ ...g, boards: all.filter((d) => d.gateway === g.id).map((d) => d.id) }));
  });
  app.route({
    method: ['GET', 'POST'],
    url: '/api/gateways/:gw/*',
    config: { access: 'viewer' },
    handler: async (req, reply) => {
      const { gw, '*': rest } = req.params as { gw: string; '*': string };
      deviceFor(devices, principalOf(req), gw, req.method === 'GET' ? 'viewer' : 'operator');
      // Only a gateway has a control channel; a board's id is "no such gateway", before anything is signed.
      if (devices.info(gw)?.kind !== 'gateway') throw new DeviceError('FERRY_DEVICE_NOT_FOUND', `no gateway ${gw}`);
      try {
        // The query string goes along: the gateway's routes read theirs (GET /api/v1/health/history?series=...).
        const q = req.raw.url?.indexOf('?') ?? -1;
        const query = q < 0 ? '' : (req.raw.url ?? '').slice(q);
        const r = await request(gw, req.method as 'GET' | 'POST', `/${rest}${query}`, req.body);
        return await reply.code(r.status).send(r.body);
      } catch (e) {
        const error = e instanceof ControlError ? e : new ControlError('FERRY_CTL_TIMEOUT', (e as Error).message, { cause: e });
        return reply.code(error.status).send(error.toJSON());
      }
    },
  });
}
