/**
 * @module The command and broadcast lists (docs/actions.md "REST API"): GET /api/v1/commands?device=&state=&limit=
 * and GET /api/v1/broadcasts?limit=, newest first, the caller's own only (a global credential sees every
 * owner's, or one owner's with ?owner=), each command with its timeline. What the dashboard's commands page
 * reads. Bounded: at most LIST_MAX items, and a state filter looks through at most LIST_SCAN of the newest.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { KID_PATTERN } from '@ferry/message';
import { STATES } from '../commands/model.ts';
import type { CommandService } from '../commands/service.ts';
import type { DeviceRegistry } from '../devices/registry.ts';
import type { Principal } from '../identity/principal.ts';
import { principalOf } from './auth.ts';
import { commandable, parse, view } from './commands.ts';

/** Items one list answers at most, and the default (docs/limits.md). */
export const LIST_MAX = 1000;
export const LIST_DEFAULT = 100;
/** Newest commands a state filter looks through at most. */
export const LIST_SCAN = 5000;

const OWNER = /^[A-Za-z0-9._-]{1,32}$/;
const limit = z.coerce.number().int().min(1).max(LIST_MAX).default(LIST_DEFAULT);
const CommandsQuery = z.object({
  device: z.string().regex(KID_PATTERN).optional(),
  state: z.enum(STATES).optional(),
  limit,
  owner: z.string().regex(OWNER).optional(),
});
const BroadcastsQuery = z.object({ limit, owner: z.string().regex(OWNER).optional() });

/** Whose lists a request reads: its owner's (`''` for none), or for a global credential all (null) or the one it names. */
const scope = (p: Principal, named: string | undefined): string | null => (p.owner !== undefined ? p.owner : (named ?? null));

export function commandListRoutes(app: FastifyInstance, cmds: CommandService, devices: DeviceRegistry): void {
  const store = cmds.lists;
  app.get('/api/v1/commands', { config: { access: 'viewer' } }, async (req) => {
    const p = principalOf(req);
    const q = parse(CommandsQuery, req.query);
    // Another owner's device answers as an unknown one does.
    if (q.device !== undefined) commandable(devices, p, q.device, 'viewer');
    const ids = await store.recent(scope(p, q.owner), q.state === undefined ? q.limit : LIST_SCAN, q.device);
    const out = [];
    for (let i = 0; i < ids.length && out.length < q.limit; i += 64) {
      const recs = await Promise.all(ids.slice(i, i + 64).map((id) => cmds.get(id)));
      for (const r of recs) if (r !== undefined && (q.state === undefined || r.state === q.state) && out.length < q.limit) out.push(r);
    }
    return { commands: out.map((r) => ({ ...view(r), history: r.history ?? [] })) };
  });

  app.get('/api/v1/broadcasts', { config: { access: 'viewer' } }, async (req) => {
    const p = principalOf(req);
    const q = parse(BroadcastsQuery, req.query);
    const list = await store.broadcasts(scope(p, q.owner), q.limit);
    return { broadcasts: list.map((b) => ({ id: b.id, created_at: b.createdAt, target: b.target, devices: b.commands.length })) };
  });
}
