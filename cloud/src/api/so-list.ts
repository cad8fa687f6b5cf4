/**
 * @module GET /api/v1/sos?limit=&owner=: the caller's composite streams (docs/composite-streams.md "REST
 * API"): each object with where it is hosted (`cloud`, or `gateway:<id>` after a move), its streams and, for
 * those computed in this process, their counters (values computed, dropped as not newer, filtered, nulls,
 * errors). Oldest first, at most `limit` (default 100, at most 1000). An owner sees its own objects; a global
 * credential every owner's, or one owner's with ?owner=.
 */
import type { FastifyInstance } from 'fastify';
import { composeError } from '@ferry/compose';
import type { ComposeHost } from '../compose/host.ts';
import type { SoMover } from '../compose/move.ts';
import { LIST_DEFAULT, LIST_MAX } from './command-lists.ts';
import { callerOf } from './sos-events.ts';

const OWNER = /^[A-Za-z0-9._-]{1,32}$/;

export interface SoListItem {
  readonly id: string;
  readonly owner: string;
  readonly created?: number;
  readonly hosted: string;
  readonly streams: readonly { readonly name: string; readonly counters?: Readonly<Record<string, number>> }[];
}

export function soListRoutes(app: FastifyInstance, host: ComposeHost, mover: Pick<SoMover, 'elsewhere'> | undefined): void {
  app.get<{ Querystring: { owner?: string; limit?: string } }>('/api/v1/sos', { config: { access: 'viewer' } }, async (req) => {
    const caller = callerOf(req);
    const { owner: named, limit: raw } = req.query;
    const limit = raw === undefined ? LIST_DEFAULT : /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(limit >= 1 && limit <= LIST_MAX)) throw composeError('FERRY_COMPOSE_BAD_REQUEST', `limit is an integer from 1 to ${LIST_MAX}`);
    if (named !== undefined && !OWNER.test(named)) throw composeError('FERRY_COMPOSE_BAD_REQUEST', 'owner is 1..32 of [A-Za-z0-9._-]');
    const owner = caller.owner ?? named;
    const mine = (o: string): boolean => owner === undefined || o === owner;
    const out: SoListItem[] = [];
    for (const rec of await host.records.list()) {
      if (out.length >= limit) break;
      if (!mine(rec.owner)) continue;
      const streams = Object.keys((rec.document['streams'] as Record<string, unknown> | undefined) ?? {}).map((name) => {
        const c = host.engine.counters(rec.id, name);
        return c === undefined ? { name } : { name, counters: { ...c } };
      });
      out.push({ id: rec.id, owner: rec.owner, created: rec.created, hosted: 'cloud', streams });
    }
    // Objects on a gateway left the cloud's store; the move remembered where they went and whose they are.
    for (const e of mover?.elsewhere() ?? [])
      if (out.length < limit && mine(e.owner)) out.push({ id: e.so, owner: e.owner, hosted: e.where, streams: (e.streams ?? []).map((name) => ({ name })) });
    return { sos: out };
  });
}
