/**
 * @module The REST routes of scheduled functions, under /api/functions/schedules (docs/cloud.md
 * "Schedules"). Errors are the typed FERRY_FN_* of the call protocol, and the FERRY_STORE_* of a store
 * that fails, each with the status its catalog gives the code (docs/errors.md).
 */
import { bearerOf } from './auth.ts';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { fnFail, type FnError } from '@ferry/wasm-host';
import { HASH_PATTERN, type FunctionService } from '../functions/index.ts';
import type { CreateSchedule, Scheduler } from '../functions/schedules/scheduler.ts';
import type { Schedule } from '../functions/schedules/stores.ts';
import { StoreError } from '../storage/errors.ts';

type Result = { ok: true; value: unknown } | { ok: false; error: FnError };

const send = (reply: FastifyReply, r: Result, okStatus = 200): FastifyReply =>
  r.ok ? reply.code(okStatus).send(r.value) : reply.code(r.error.status).send(r.error.toJSON());

/** Schedules take the function tokens (docs/functions.md), checked by the scheduler, not API credentials. */
const fnRoute = { config: { access: 'fn' as const, rateLimit: false as const } };

/** What the API shows of a schedule: never the public token it runs under (a credential of another device). */
const view = ({ token, ...s }: Schedule): Omit<Schedule, 'token'> & { runsAs: 'owner' | 'public-token' } => ({
  ...s,
  runsAs: token === undefined ? 'owner' : 'public-token',
});

/** A store that fails is the server's problem, not the caller's: its FERRY_STORE_* code with its status (503). */
async function guarded(reply: FastifyReply, f: () => Promise<FastifyReply>): Promise<FastifyReply> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof StoreError) return reply.code(e.status).send(e.toJSON());
    throw e;
  }
}

export function scheduleRoutes(app: FastifyInstance, scheduler: Scheduler, fns: FunctionService): void {
  // Body {token, namespace, hash, export, args, periodS, writeTo} (token may be a Bearer header instead).
  app.post('/api/functions/schedules', fnRoute, async (req, reply) =>
    guarded(reply, async () => {
      const b = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
      const create = {
        token: typeof b['token'] === 'string' ? b['token'] : (bearerOf(req) ?? ''),
        namespace: b['namespace'],
        hash: b['hash'],
        export: b['export'],
        args: b['args'],
        periodS: b['periodS'],
        writeTo: b['writeTo'],
      } as CreateSchedule; // every field is checked by Scheduler.create
      // As for a call, a hash the cloud does not hold is FERRY_FN_MODULE_NEEDED (upload it, then retry), told
      // only to a caller allowed to run it; otherwise every run would fail the same way.
      const p = fns.authorize(create.token, create.namespace);
      if (
        p.ok &&
        typeof create.hash === 'string' &&
        HASH_PATTERN.test(create.hash) &&
        fns.checkFunction(p.value, create.namespace, create.hash).ok &&
        (await fns.registry.get(create.hash)) === undefined
      ) {
        return send(reply, fnFail('FERRY_FN_MODULE_NEEDED', `upload the module ${create.hash}, then retry`));
      }
      const r = await scheduler.create(create);
      return send(reply, r.ok ? { ok: true, value: view(r.value) } : r, 201);
    }),
  );

  // The caller's schedules: all of the owner's for a private token, those in its namespaces for a public one.
  app.get<{ Querystring: { token?: string } }>('/api/functions/schedules', fnRoute, async (req, reply) =>
    guarded(reply, async () => {
      const q = req.query.token;
      const p = fns.authenticate(typeof q === 'string' && q !== '' ? q : (bearerOf(req) ?? ''));
      if (!p.ok) return send(reply, p);
      const { owner, claims } = p.value;
      const mine = (await scheduler.store.list()).filter((s) => s.owner === owner && (claims === undefined || claims.namespaces.includes(s.namespace)));
      return send(reply, { ok: true, value: mine.map(view) });
    }),
  );

  // Any valid token of the schedule's owner may delete it (Scheduler.remove); token in the body or Bearer.
  app.delete<{ Params: { id: string } }>('/api/functions/schedules/:id', fnRoute, async (req, reply) =>
    guarded(reply, async () => {
      const t = (req.body as { token?: unknown } | undefined)?.token;
      const r = await scheduler.remove(typeof t === 'string' ? t : (bearerOf(req) ?? ''), req.params.id);
      return r.ok ? reply.code(204).send() : send(reply, r);
    }),
  );
}
