/**
 * @module The broadcast and device-tag routes (docs/actions.md "REST API"): POST /api/v1/broadcasts (202
 * `{id, devices}`), GET and DELETE /api/v1/broadcasts/{id}, PUT and GET /api/v1/devices/{id}/tags. Owner
 * scoped like the command routes (commands.ts).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { PRIORITIES } from '../commands/model.ts';
import { CommandError } from '../commands/errors.ts';
import { parseTarget, type Broadcasts } from '../commands/broadcast.ts';
import type { CommandService } from '../commands/service.ts';
import type { DeviceTags } from '../commands/tags.ts';
import type { DeviceRegistry } from '../devices/registry.ts';
import { principalOf } from './auth.ts';
import { commandable, parse } from './commands.ts';

export const BroadcastBody = z.object({
  target: z.unknown(),
  command: z.unknown(),
  ttl_s: z.number().int().positive().optional(),
  priority: z.enum(PRIORITIES).optional(),
});
export const TagsBody = z.object({ tags: z.record(z.string(), z.string()) });

export function broadcastRoutes(app: FastifyInstance, cmds: CommandService, broadcasts: Broadcasts, tags: DeviceTags, devices: DeviceRegistry): void {
  app.post('/api/v1/broadcasts', { config: { access: 'operator' } }, async (req, reply) => {
    const p = principalOf(req);
    const b = parse(BroadcastBody, req.body);
    const target = parseTarget(b.target);
    if (!cmds.pay(p.owner, 'broadcast')) throw new CommandError('FERRY_CMD_RATE_LIMITED', `more than ${cmds.limits.broadcastsPerMinute} broadcasts a minute`);
    return reply.code(202).send(await broadcasts.send(p, target, b.command, { ttlS: b.ttl_s, priority: b.priority }));
  });
  app.get<{ Params: { id: string } }>('/api/v1/broadcasts/:id', { config: { access: 'viewer' } }, async (req) =>
    broadcasts.status(await broadcasts.get(principalOf(req), req.params.id)),
  );
  app.delete<{ Params: { id: string } }>('/api/v1/broadcasts/:id', { config: { access: 'operator' } }, async (req) => {
    const b = await broadcasts.get(principalOf(req), req.params.id);
    return { id: b.id, cancelled: await broadcasts.cancel(b) };
  });
  app.put<{ Params: { id: string } }>('/api/v1/devices/:id/tags', { config: { access: 'operator' } }, async (req) => {
    commandable(devices, principalOf(req), req.params.id, 'operator');
    tags.set(req.params.id, parse(TagsBody, req.body).tags);
    return { id: req.params.id, tags: tags.get(req.params.id) };
  });
  app.get<{ Params: { id: string } }>('/api/v1/devices/:id/tags', { config: { access: 'viewer' } }, async (req) => {
    commandable(devices, principalOf(req), req.params.id, 'viewer');
    return { id: req.params.id, tags: tags.get(req.params.id) };
  });
}
