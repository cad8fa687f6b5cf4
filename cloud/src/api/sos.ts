/**
 * @module The composite-stream REST API under /api/v1/sos (docs/composite-streams.md "REST API"): service
 * objects, sensor updates, latest values, history, grants, explain; the event streams are sos-events.ts.
 * Owners act on their own objects, a global credential on all; another owner's object answers 404
 * (FERRY_COMPOSE_NOT_FOUND), as an absent one does. Reading a stream (latest value, history, events) is also
 * open to an owner holding a grant on it. Errors are the FERRY_COMPOSE_* catalog with its statuses.
 */
import type { FastifyInstance } from 'fastify';
import { composeError, type ComposeError, type PushReport } from '@ferry/compose';
import type { Result } from '@ferry/base';
import type { SoHosting } from '../compose/hosting.ts';
import type { ComposeHost } from '../compose/host.ts';
import { parseGrant } from '../compose/records.ts';
import { parseSoCommands } from '../compose/command-trigger.ts';
import { callerOf, sosEventRoutes } from './sos-events.ts';

/** Largest document and largest sensor update, in bytes (docs/limits.md). */
export const SO_BODY_LIMITS = { document: 512 * 1024, update: 256 * 1024 } as const;
/** History answers at most this many values; explain at most 64 entries (the engine keeps 64). */
export const SO_HISTORY_MAX = 1000;
const OWNER = /^[A-Za-z0-9._-]{1,32}$/;

/** A result's value, or its typed error thrown for the one error handler to answer. */
function unwrap<T>(r: Result<T, Error>): T {
  if (!r.ok) throw r.error;
  return r.value;
}
const bad = (detail: string): ComposeError => composeError('FERRY_COMPOSE_BAD_REQUEST', detail);

/** A non-negative integer query parameter, its default when absent. */
function intParam(raw: unknown, name: string, dflt: number, max = Number.MAX_SAFE_INTEGER): number {
  if (raw === undefined || raw === '') return dflt;
  const n = typeof raw === 'string' && /^\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n > max) throw bad(`${name} is an integer from 0 to ${max}`);
  return n;
}

type SoParams = { Params: { so: string } };
type StreamParams = { Params: { so: string; stream: string } };

export interface SoRouteParts {
  readonly host: ComposeHost;
  /** Where a sensor update goes: the object's host, or the gateway it moved to (compose/move.ts SoMover.push). */
  readonly push?: ((...a: Parameters<SoHosting['push']>) => Promise<Result<PushReport, Error>>) | undefined;
  /** Whether an owner id is registered (a global caller names one with ?owner=). */
  readonly ownerExists: (owner: string) => boolean;
}

export function soRoutes(app: FastifyInstance, p: SoRouteParts): void {
  const { host } = p;
  const doc = { config: { access: 'admin' as const }, bodyLimit: SO_BODY_LIMITS.document };

  app.post<{ Querystring: { owner?: string } }>('/api/v1/sos', doc, async (req, reply) => {
    const caller = callerOf(req);
    const named = req.query.owner;
    if (named !== undefined && (typeof named !== 'string' || !OWNER.test(named) || !p.ownerExists(named))) throw bad('owner names no registered owner');
    if (caller.global === true && named === undefined) throw bad('a global credential names the owner: POST /api/v1/sos?owner=<id>');
    unwrap(parseSoCommands(req.body)); // the Ferry field `commands` (compose/command-trigger.ts)
    const created = unwrap(await host.create(caller, req.body, named ?? caller.owner));
    return reply.code(201).send(created);
  });

  app.get<SoParams>('/api/v1/sos/:so', { config: { access: 'viewer' } }, async (req) => {
    const rec = unwrap(await host.get(callerOf(req), req.params.so));
    return { id: rec.id, owner: rec.owner, created: rec.created, document: rec.document };
  });

  app.put<SoParams>('/api/v1/sos/:so', doc, async (req) => {
    unwrap(parseSoCommands(req.body));
    const rec = unwrap(await host.replace(callerOf(req), req.params.so, req.body));
    return { id: rec.id, owner: rec.owner, created: rec.created, document: rec.document };
  });

  app.delete<SoParams>('/api/v1/sos/:so', { config: { access: 'admin' } }, async (req, reply) => {
    unwrap(await host.remove(callerOf(req), req.params.so));
    return reply.code(204).send();
  });

  // A sensor update: what happened to it (accepted, not-newer, filtered, ...) and how many values the wave stored.
  app.put<StreamParams>('/api/v1/sos/:so/streams/:stream', { config: { access: 'operator' }, bodyLimit: SO_BODY_LIMITS.update }, async (req) => {
    const r = unwrap(await (p.push ?? ((...a) => host.push(...a)))(callerOf(req), req.params.so, req.params.stream, req.body));
    return { outcome: r.outcome, outputs: r.outputs.length };
  });

  app.get<StreamParams>('/api/v1/sos/:so/streams/:stream/lastUpdate', { config: { access: 'viewer' } }, async (req) => {
    const v = unwrap(await host.latest(callerOf(req), req.params.so, req.params.stream));
    if (v === undefined) throw composeError('FERRY_COMPOSE_NOT_FOUND', 'the stream has no value yet', { so: req.params.so, stream: req.params.stream });
    return v;
  });

  app.get<StreamParams & { Querystring: { from?: string; to?: string; limit?: string } }>(
    '/api/v1/sos/:so/streams/:stream',
    { config: { access: 'viewer' } },
    async (req) => {
      const from = intParam(req.query.from, 'from', 0);
      const to = intParam(req.query.to, 'to', Number.MAX_SAFE_INTEGER);
      const limit = intParam(req.query.limit, 'limit', 100, SO_HISTORY_MAX);
      if (from > to) throw bad('from is at most to');
      return { data: unwrap(await host.history(callerOf(req), req.params.so, req.params.stream, from, to, limit)) };
    },
  );

  app.get<StreamParams & { Querystring: { n?: string } }>('/api/v1/sos/:so/streams/:stream/explain', { config: { access: 'viewer' } }, async (req) => {
    const n = intParam(req.query.n, 'n', 10, 64);
    return unwrap(await host.explain(callerOf(req), req.params.so, req.params.stream, n));
  });

  app.get<SoParams>('/api/v1/sos/:so/grants', { config: { access: 'viewer' } }, async (req) => ({
    grants: unwrap(await host.grants(callerOf(req), req.params.so)),
  }));

  app.post<SoParams>('/api/v1/sos/:so/grants', { config: { access: 'admin' } }, async (req, reply) => {
    const g = parseGrant(req.body);
    if (typeof g === 'string') throw bad(g);
    const added = unwrap(await host.grant(callerOf(req), req.params.so, g));
    return reply.code(added ? 201 : 200).send({ grant: g, added });
  });

  // The body names the grant to revoke; the flow through it stops at once.
  app.delete<SoParams>('/api/v1/sos/:so/grants', { config: { access: 'admin' } }, async (req, reply) => {
    const g = parseGrant(req.body);
    if (typeof g === 'string') throw bad(g);
    unwrap(await host.revoke(callerOf(req), req.params.so, g));
    return reply.code(204).send();
  });

  sosEventRoutes(app, host);
}
