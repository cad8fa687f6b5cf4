/**
 * @module The alarm routes under /api/v1 (docs/operations.md "Alarms", the REST API): alarm rules (create,
 * list, read, delete), alarms (list with filters, read with history, acknowledge, clear, assign) and
 * `GET /api/v1/alarms/events`, server-sent events of every change of the caller's alarms, bounded per owner.
 * Reading needs a viewer, changing an operator; another owner's rule or alarm answers 404
 * (FERRY_ALARM_NOT_FOUND). A global credential sees every owner's (`?owner=` narrows a listing) and may make a
 * rule for one with `owner` in the body.
 */
import type { FastifyInstance } from 'fastify';
import { SEVERITIES, type Severity } from '@ferry/rules';
import { AlarmError } from '../alarms/errors.ts';
import { view } from '../alarms/lifecycle.ts';
import type { AlarmRules } from '../alarms/rules.ts';
import type { AlarmService } from '../alarms/service.ts';
import { ALARM_LIMITS, ALARM_STATUSES, type Alarm, type AlarmFilter, type AlarmRule, type AlarmStatus, type Scope } from '../alarms/types.ts';
import { AuthError } from '../identity/errors.ts';
import type { Identity } from '../identity/identity.ts';
import { mayActOn, type Principal, type Role } from '../identity/principal.ts';
import { principalOf } from './auth.ts';
import { SseStreams } from './sse.ts';

export interface AlarmApiParts {
  /** The running service, once started. */
  readonly alarms: { readonly parts: { readonly service: AlarmService; readonly rules: AlarmRules } | undefined; stop(): Promise<void> };
  readonly identity: Identity;
  readonly ownerExists: (owner: string) => boolean;
}

/** Open alarm event streams per owner (per credential for a global one); docs/limits.md. */
export const ALARM_SSE_PER_OWNER = 32;
const read = { config: { access: 'viewer' as const } };
const change = { config: { access: 'operator' as const } };
type Q = { owner?: string; status?: string; severity?: string; type?: string; source?: string; limit?: string };

/** A rule as answered: without the job state the service keeps beside it. */
const ruleView = ({ snapshot: _s, unapplied: _u, ...r }: AlarmRule): AlarmRule => r;
const notFound = (what: string, id: string): AlarmError => new AlarmError('FERRY_ALARM_NOT_FOUND', `no ${what} ${id}`);

function mine<T extends { readonly owner?: string | undefined }>(p: Principal, x: T | undefined, need: Role, what: string, id: string): T {
  if (x === undefined || !mayActOn(p, x.owner, need)) throw notFound(what, id);
  return x;
}

function scopeOf(p: Principal, q: Q): Scope {
  if (p.owner !== undefined) return { owner: p.owner };
  return q.owner === undefined ? 'all' : { owner: q.owner === '' ? undefined : q.owner };
}

function filterOf(q: Q): { filter: AlarmFilter; limit: number } {
  const bad = (path: string, what: string): never => {
    throw new AlarmError('FERRY_ALARM_BAD_REQUEST', `${path}: ${what}`, { path });
  };
  if (q.status !== undefined && !(ALARM_STATUSES as readonly string[]).includes(q.status)) bad('status', `one of ${ALARM_STATUSES.join(', ')}`);
  if (q.severity !== undefined && !(SEVERITIES as readonly string[]).includes(q.severity)) bad('severity', `one of ${SEVERITIES.join(', ')}`);
  const limit = q.limit === undefined ? 100 : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > ALARM_LIMITS.listMax) bad('limit', `an integer 1..${ALARM_LIMITS.listMax}`);
  return {
    filter: {
      ...(q.status !== undefined && { status: q.status as AlarmStatus }),
      ...(q.severity !== undefined && { severity: q.severity as Severity }),
      ...(q.type !== undefined && { type: q.type }),
      ...(q.source !== undefined && { source: q.source }),
    },
    limit,
  };
}

export function alarmRoutes(app: FastifyInstance, parts: AlarmApiParts): void {
  const streams = new SseStreams(app, ALARM_SSE_PER_OWNER);
  app.addHook('onClose', async () => {
    await parts.alarms.stop(); // the service stops with its API: the cloud closes it after the notifier and commands
  });
  const running = (): { service: AlarmService; rules: AlarmRules } => {
    const p = parts.alarms.parts;
    if (p === undefined) throw new AlarmError('FERRY_ALARM_STARTING', 'the alarm service is starting');
    return p;
  };
  const by = (p: Principal): string => p.id;

  app.post('/api/v1/alarm-rules', change, async (req, reply) => {
    const p = principalOf(req);
    const body = req.body as Record<string, unknown> | undefined;
    const owner = parts.identity.ownerFor(p, body?.['owner']);
    if (owner !== undefined && !parts.ownerExists(owner)) throw new AuthError('FERRY_AUTH_NOT_FOUND', `no owner ${owner}`);
    return reply.code(201).send(ruleView(await running().rules.create(owner, body)));
  });
  app.get<{ Querystring: Q }>('/api/v1/alarm-rules', read, async (req) => ({
    rules: (await running().rules.list(scopeOf(principalOf(req), req.query))).map(ruleView),
  }));
  app.get<{ Params: { id: string } }>('/api/v1/alarm-rules/:id', read, async (req) =>
    ruleView(mine(principalOf(req), await running().rules.rule(req.params.id), 'viewer', 'alarm rule', req.params.id)),
  );
  app.delete<{ Params: { id: string } }>('/api/v1/alarm-rules/:id', change, async (req, reply) => {
    const { rules } = running();
    await rules.delete(mine(principalOf(req), await rules.rule(req.params.id), 'operator', 'alarm rule', req.params.id));
    return reply.code(204).send();
  });

  app.get<{ Querystring: Q }>('/api/v1/alarms', read, async (req) => {
    const { filter, limit } = filterOf(req.query);
    const alarms = await running().service.store.listAlarms(scopeOf(principalOf(req), req.query), filter, limit);
    return { alarms: alarms.map((a) => view(a, false)) };
  });
  app.get<{ Params: { id: string } }>('/api/v1/alarms/:id', read, async (req) =>
    view(mine(principalOf(req), await running().service.store.getAlarm(req.params.id), 'viewer', 'alarm', req.params.id), true),
  );
  const act = async (p: Principal, id: string, f: (s: AlarmService) => Promise<Parameters<typeof view>[0]>): Promise<Alarm> => {
    const { service } = running();
    mine(p, await service.store.getAlarm(id), 'operator', 'alarm', id);
    return view(await f(service), true);
  };
  app.post<{ Params: { id: string } }>('/api/v1/alarms/:id/ack', change, async (req) =>
    act(principalOf(req), req.params.id, (s) => s.ack(req.params.id, by(principalOf(req)))),
  );
  app.post<{ Params: { id: string } }>('/api/v1/alarms/:id/clear', change, async (req) =>
    act(principalOf(req), req.params.id, (s) => s.clear(req.params.id, by(principalOf(req)))),
  );
  app.put<{ Params: { id: string } }>('/api/v1/alarms/:id/assignee', change, async (req) => {
    const a = (req.body as { assignee?: unknown } | undefined)?.assignee;
    if (!(a === null || (typeof a === 'string' && a.length > 0 && a.length <= 128)))
      throw new AlarmError('FERRY_ALARM_BAD_REQUEST', 'assignee: a string of 1..128 characters, or null', { path: 'assignee' });
    return act(principalOf(req), req.params.id, (s) => s.assign(req.params.id, a, by(principalOf(req))));
  });

  app.get('/api/v1/alarms/events', read, async (req, reply) => {
    const p = principalOf(req);
    const { service } = running();
    const who = p.owner ?? `global:${p.id}`;
    if (streams.full(who)) throw new AlarmError('FERRY_ALARM_LIMIT', `${ALARM_SSE_PER_OWNER} alarm event streams are open for this owner`);
    let off = (): void => undefined;
    const stream = streams.open(req, reply, who, 'ferry alarms', () => off());
    off = service.onChange((a) => {
      if (mayActOn(p, a.owner, 'viewer')) stream.send('alarm', a, a.id);
    });
  });
}
