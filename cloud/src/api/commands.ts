/**
 * @module The command routes (docs/actions.md "REST API"): POST /api/v1/commands (one command, 202),
 * POST /api/v1/commands/batch (up to 10, a result per item), GET and DELETE /api/v1/commands/{id}. Sending
 * and cancelling need the operator role, reading the viewer role, of the device's owner; another owner's
 * devices and commands answer 404. The broadcast and tag routes are in broadcasts.ts.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { KID_PATTERN } from '@ferry/message';
import { CommandError } from '../commands/errors.ts';
import { MAX_BATCH_ITEMS } from '../commands/limits.ts';
import { PRIORITIES, type CommandRecord } from '../commands/model.ts';
import type { CommandService } from '../commands/service.ts';
import type { DeviceRegistry } from '../devices/registry.ts';
import { mayActOn, type Principal, type Role } from '../identity/principal.ts';
import { principalOf } from './auth.ts';

export const SendBody = z.object({
  device: z.string().regex(KID_PATTERN),
  command: z.unknown(),
  ttl_s: z.number().int().positive().optional(),
  priority: z.enum(PRIORITIES).optional(),
});
const BatchBody = z.object({ items: z.array(z.unknown()).min(1) });

/** A zod failure as FERRY_CMD_BAD_REQUEST, naming the first field at fault. */
export function parse<T>(schema: z.ZodType<T>, v: unknown): T {
  const r = schema.safeParse(v ?? {});
  if (r.success) return r.data;
  const i = r.error.issues[0];
  throw new CommandError('FERRY_CMD_BAD_REQUEST', `${i?.path.join('.') || 'body'}: ${i?.message ?? 'invalid'}`);
}

/** The device if `p` may act on it with `need`; FERRY_CMD_DEVICE_NOT_FOUND otherwise, so other owners' ids do not leak. */
export function commandable(devices: DeviceRegistry, p: Principal, id: string, need: Role): void {
  const place = devices.placeOf(id);
  if (place === undefined || !mayActOn(p, place.owner, need)) throw new CommandError('FERRY_CMD_DEVICE_NOT_FOUND', `no device ${id}`);
}

/** A command as the API shows it. */
export const view = (r: CommandRecord) => ({
  id: r.id,
  device: r.device,
  state: r.state,
  priority: r.priority,
  command: r.cmd,
  source: r.source,
  attempts: r.attempts,
  created_at: r.createdAt,
  updated_at: r.updatedAt,
  expires_at: r.expiresAt,
  ...(r.reason !== undefined && { reason: r.reason }),
  ...(r.broadcast !== undefined && { broadcast: r.broadcast }),
});

export function commandRoutes(app: FastifyInstance, cmds: CommandService, devices: DeviceRegistry): void {
  const send = async (p: Principal, body: unknown): Promise<CommandRecord> => {
    const b = parse(SendBody, body);
    commandable(devices, p, b.device, 'operator');
    if (!cmds.pay(p.owner, 'cmd')) throw new CommandError('FERRY_CMD_RATE_LIMITED', `more than ${cmds.limits.perSecond} commands per second`);
    return cmds.enqueue({ device: b.device, command: b.command, ttlS: b.ttl_s, priority: b.priority, source: 'api' });
  };
  const mine = async (p: Principal, id: string, need: Role): Promise<CommandRecord> => {
    const r = await cmds.get(id);
    if (r === undefined || !mayActOn(p, r.owner, need)) throw new CommandError('FERRY_CMD_NOT_FOUND', `no command ${id}`);
    return r;
  };

  app.post('/api/v1/commands', { config: { access: 'operator' } }, async (req, reply) => {
    const r = await send(principalOf(req), req.body);
    return reply.code(202).send({ id: r.id, state: r.state });
  });
  // SQS SendMessageBatch semantics: each item succeeds or fails alone, answered in order.
  app.post('/api/v1/commands/batch', { config: { access: 'operator' } }, async (req) => {
    const { items } = parse(BatchBody, req.body);
    if (items.length > MAX_BATCH_ITEMS) throw new CommandError('FERRY_CMD_TOO_LARGE', `a batch holds at most ${MAX_BATCH_ITEMS} items`);
    const p = principalOf(req);
    const results = [];
    for (const item of items) {
      try {
        const r = await send(p, item);
        results.push({ ok: true, id: r.id, state: r.state });
      } catch (e) {
        if (!(e instanceof CommandError)) throw e;
        results.push({ ok: false, status: e.status, ...e.toJSON() });
      }
    }
    return { results };
  });
  app.get<{ Params: { id: string } }>('/api/v1/commands/:id', { config: { access: 'viewer' } }, async (req) =>
    view(await mine(principalOf(req), req.params.id, 'viewer')),
  );
  app.delete<{ Params: { id: string } }>('/api/v1/commands/:id', { config: { access: 'operator' } }, async (req) =>
    view(await cmds.cancel(await mine(principalOf(req), req.params.id, 'operator'))),
  );
}
