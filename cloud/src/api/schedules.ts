/**
 * @module Scheduled functions in the cloud service (issue 4 §3): the scheduler on the stores of the running
 * mode (SQLite in embedded mode, Redis in scale-out, so schedules survive a restart and N workers run each
 * period once), and the REST routes under /api/functions/schedules. Errors are the typed
 * FERRY_FN_* of the call protocol, with the same HTTP statuses (statusOf); a store that fails is a 503.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { fnFail, type FnError } from '@ferry/wasm-host';
import { HASH_PATTERN, systemClock, type Clock, type FunctionService } from '../functions/index.ts';
import { Scheduler, type CreateSchedule } from '../functions/schedules/scheduler.ts';
import type { Schedule } from '../functions/schedules/stores.ts';
import { SqliteLeaseStore, SqliteScheduleStore } from '../storage/sqlite/schedule-stores.ts';
import { RedisLeaseStore, RedisScheduleStore } from '../storage/redis/schedule-stores.ts';
import { StoreError } from '../storage/errors.ts';
import type { RedisClient } from '../storage/redis/script.ts';
import { statusOf } from './functions.ts';

export interface SchedulerSetup {
  readonly functions: FunctionService;
  /** Scale-out: schedules and leases in Redis, shared by every worker. Takes precedence over `db`. */
  readonly redis?: RedisClient | undefined;
  /** Embedded: schedules and leases in this SQLite database. */
  readonly db?: Database.Database | undefined;
  /** The clock periods are counted on (default: the system clock). */
  readonly clock?: Clock | undefined;
  readonly workerId?: string | undefined;
}

/** A scheduler on the stores of the running mode (in memory only when given neither Redis nor SQLite). */
export function schedulerFor(setup: SchedulerSetup): Scheduler {
  const workerId = setup.workerId ?? `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;
  const clock = setup.clock ?? systemClock();
  if (setup.redis !== undefined) {
    const store = new RedisScheduleStore({ redis: setup.redis });
    return new Scheduler({ service: setup.functions, clock, workerId, store, leases: new RedisLeaseStore({ redis: setup.redis, schedules: store }) });
  }
  if (setup.db !== undefined) {
    return new Scheduler({ service: setup.functions, clock, workerId, store: new SqliteScheduleStore(setup.db), leases: new SqliteLeaseStore(setup.db) });
  }
  return new Scheduler({ service: setup.functions, clock, workerId });
}

type Result = { ok: true; value: unknown } | { ok: false; error: FnError };

const send = (reply: FastifyReply, r: Result, okStatus = 200): FastifyReply =>
  r.ok ? reply.code(okStatus).send(r.value) : reply.code(statusOf(r.error)).send(r.error.toJSON());

const bearer = (h: string | undefined): string => (h?.startsWith('Bearer ') === true ? h.slice(7) : '');

/** What the API shows of a schedule: never the public token it runs under (a credential of another device). */
const view = ({ token, ...s }: Schedule): Omit<Schedule, 'token'> & { runsAs: 'owner' | 'public-token' } => ({ ...s, runsAs: token === undefined ? 'owner' : 'public-token' });

/** A store that fails is the server's problem, not the caller's: 503 with the FERRY_STORE_* code. */
async function guarded(reply: FastifyReply, f: () => Promise<FastifyReply>): Promise<FastifyReply> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof StoreError) return reply.code(503).send(e.toJSON());
    throw e;
  }
}

export function scheduleRoutes(app: FastifyInstance, scheduler: Scheduler, fns: FunctionService): void {
  // Body {token, namespace, hash, export, args, periodS, writeTo} (token may be a Bearer header instead).
  app.post('/api/functions/schedules', async (req, reply) => guarded(reply, async () => {
    const b = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    const create = {
      token: typeof b['token'] === 'string' ? b['token'] : bearer(req.headers.authorization),
      namespace: b['namespace'], hash: b['hash'], export: b['export'], args: b['args'], periodS: b['periodS'], writeTo: b['writeTo'],
    } as CreateSchedule; // every field is checked by Scheduler.create
    // As for a call, a hash the cloud does not hold is FERRY_FN_MODULE_NEEDED (upload it, then retry), told
    // only to a caller allowed to run it; otherwise every run would fail the same way.
    const p = fns.authorize(create.token, create.namespace);
    if (p.ok && typeof create.hash === 'string' && HASH_PATTERN.test(create.hash) && fns.checkFunction(p.value, create.namespace, create.hash).ok
      && (await fns.registry.get(create.hash)) === undefined) {
      return send(reply, fnFail('FERRY_FN_MODULE_NEEDED', `upload the module ${create.hash}, then retry`));
    }
    const r = await scheduler.create(create);
    return send(reply, r.ok ? { ok: true, value: view(r.value) } : r, 201);
  }));

  // The caller's schedules: all of the owner's for a private token, those in its namespaces for a public one.
  app.get<{ Querystring: { token?: string } }>('/api/functions/schedules', async (req, reply) => guarded(reply, async () => {
    const q = req.query.token;
    const p = fns.authenticate(typeof q === 'string' && q !== '' ? q : bearer(req.headers.authorization));
    if (!p.ok) return send(reply, p);
    const { owner, claims } = p.value;
    const mine = (await scheduler.store.list()).filter((s) => s.owner === owner && (claims === undefined || claims.namespaces.includes(s.namespace)));
    return send(reply, { ok: true, value: mine.map(view) });
  }));

  // Any valid token of the schedule's owner may delete it (Scheduler.remove); token in the body or Bearer.
  app.delete<{ Params: { id: string } }>('/api/functions/schedules/:id', async (req, reply) => guarded(reply, async () => {
    const t = (req.body as { token?: unknown } | undefined)?.token;
    const r = await scheduler.remove(typeof t === 'string' ? t : bearer(req.headers.authorization), req.params.id);
    return r.ok ? reply.code(204).send() : send(reply, r);
  }));
}
