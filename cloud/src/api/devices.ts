/**
 * @module POST /api/devices (add a device: its key is shown once) and GET /api/devices (no keys). With the
 * owner's private token a device joins that owner's namespace: its readings then feed the owner's function
 * state; only the owner can do that.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '@ferry/rules-host';
import { DeviceError } from '../devices/errors.ts';
import type { DeviceKind, DeviceRegistry } from '../devices/registry.ts';
import type { FunctionService } from '../functions/index.ts';

export function deviceRoutes(app: FastifyInstance, devices: DeviceRegistry, fns: FunctionService): void {
  app.post('/api/devices', async (req, reply) => {
    const b = req.body as { id?: unknown; namespace?: unknown; privateToken?: unknown; kind?: unknown; gateway?: unknown } | undefined;
    if (typeof b?.id !== 'string') {
      const e = new ApiError(
        'FERRY_API_BAD_REQUEST',
        'body must be {"id": "<device id>", "namespace"?: "<namespace>", "privateToken"?: "<owner private token>", "kind"?: "device"|"gateway", "gateway"?: "<gateway id>"}',
      );
      return reply.code(e.status).send({ ...e.toJSON(), path: 'id' });
    }
    let owner: string | undefined;
    if (b.privateToken !== undefined) {
      const o = fns.owners.authenticate(typeof b.privateToken === 'string' ? b.privateToken : '');
      if (!o.ok) return reply.code(o.error.status).send(o.error.toJSON());
      owner = o.value;
    }
    try {
      return await reply.code(201).send(
        devices.add(b.id, typeof b.namespace === 'string' ? b.namespace : undefined, Date.now(), owner, {
          ...(b.kind !== undefined && { kind: b.kind as DeviceKind }),
          ...(typeof b.gateway === 'string' && { gateway: b.gateway }),
        }),
      );
    } catch (e) {
      if (e instanceof DeviceError) return reply.code(e.status).send(e.toJSON());
      throw e;
    }
  });
  app.get('/api/devices', async () => devices.list());
}
