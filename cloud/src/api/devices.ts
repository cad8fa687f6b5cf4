/**
 * @module Devices: POST /api/devices (add one: its key is shown once), GET /api/devices and /api/devices/:id
 * (no keys), DELETE /api/devices/:id. A device belongs to an owner: the owner of the credential that adds it,
 * or for the cloud's admin the `owner` named in the body; its readings then feed that owner's namespace state,
 * and only that owner's credentials (and the admin) see or remove it. The legacy `privateToken` field still
 * names the owner, but it must be the owner's own.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '@ferry/rules-host';
import { DeviceError } from '../devices/errors.ts';
import type { DeviceKind, DeviceRegistry } from '../devices/registry.ts';
import { mqttPassword } from '@ferry/message/node';
import type { FunctionService } from '../functions/index.ts';
import { AuthError } from '../identity/errors.ts';
import type { Identity } from '../identity/identity.ts';
import { mayActOn, type Principal, type Role } from '../identity/principal.ts';
import { principalOf } from './auth.ts';

/** The device if `p` may act on it with `need`; "not found" otherwise, so other owners' ids do not leak. */
export function deviceFor(devices: DeviceRegistry, p: Principal, id: string, need: Role): { id: string; namespace: string; owner: string | undefined } {
  const place = devices.placeOf(id);
  if (place === undefined || !mayActOn(p, place.owner, need)) throw new DeviceError('FERRY_DEVICE_NOT_FOUND', `no device ${id}`);
  return { id, ...place };
}

/** A new device's answer with its MQTT login (docs/cloud.md "MQTT"): user name = id, password derived from the key. */
export function withMqtt<T extends { id: string; key: string }>(d: T): T & { mqtt: { username: string; password: string } } {
  return { ...d, mqtt: { username: d.id, password: mqttPassword(Buffer.from(d.key, 'hex'), d.id) } };
}

export function deviceRoutes(app: FastifyInstance, devices: DeviceRegistry, fns: FunctionService, identity: Identity): void {
  app.post('/api/devices', { config: { access: 'admin' } }, async (req, reply) => {
    const p = principalOf(req);
    const b = (req.body ?? {}) as { id?: unknown; namespace?: unknown; owner?: unknown; privateToken?: unknown; kind?: unknown; gateway?: unknown };
    if (typeof b.id !== 'string') {
      const e = new ApiError(
        'FERRY_API_BAD_REQUEST',
        'body must be {"id": "<device id>", "namespace"?: "<namespace>", "owner"?: "<owner id>", "gateway"?: "<gateway id>", "kind"?: "device"|"gateway"}',
      );
      return reply.code(e.status).send({ ...e.toJSON(), path: 'id' });
    }
    let named = b.owner;
    if (b.privateToken !== undefined) {
      const o = fns.owners.authenticate(typeof b.privateToken === 'string' ? b.privateToken : '');
      if (!o.ok) return reply.code(o.error.status).send(o.error.toJSON());
      named = o.value;
    }
    const owner = identity.ownerFor(p, named);
    if (owner !== undefined && fns.owners.publicKey(owner) === undefined) throw new AuthError('FERRY_AUTH_NOT_FOUND', `no owner ${owner}`);
    return reply.code(201).send(
      withMqtt(
        devices.add(b.id, typeof b.namespace === 'string' ? b.namespace : undefined, Date.now(), owner, {
          ...(b.kind !== undefined && { kind: b.kind as DeviceKind }),
          ...(typeof b.gateway === 'string' && { gateway: b.gateway }),
        }),
      ),
    );
  });
  app.get('/api/devices', { config: { access: 'viewer' } }, async (req) => {
    const p = principalOf(req);
    return devices.list().filter((d) => mayActOn(p, d.owner, 'viewer'));
  });
  app.get<{ Params: { id: string } }>('/api/devices/:id', { config: { access: 'viewer' } }, async (req) => {
    deviceFor(devices, principalOf(req), req.params.id, 'viewer');
    return devices.list().find((d) => d.id === req.params.id);
  });
  app.delete<{ Params: { id: string } }>('/api/devices/:id', { config: { access: 'admin' } }, async (req) => {
    deviceFor(devices, principalOf(req), req.params.id, 'admin');
    devices.remove(req.params.id);
    return { id: req.params.id, removed: true };
  });
}
