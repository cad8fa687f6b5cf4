/**
 * @module The rule REST API, the same on the gateway and the cloud: POST /api/install, /api/uninstall,
 * /api/start, /api/stop, /api/move, GET /api/jobs and /api/jobs/:jobId. Errors come back with the HTTP
 * status their catalog gives the code (docs/errors.md), the code, the JSON path of the offending field
 * and the reason.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { isRuleError } from '@ferry/rules';
import { ApiError } from './errors.ts';
import type { RulesHost } from './host.ts';

type JobRef = { jobId?: unknown };

/** A rule error as its catalog says; anything else failed in the hand-over to another runtime. */
function sendError(reply: FastifyReply, e: unknown): FastifyReply {
  const error = isRuleError(e) || e instanceof ApiError ? e : new ApiError('FERRY_API_MOVE_FAILED', (e as Error).message, { cause: e });
  return reply.code(error.status).send(error.toJSON());
}

const badRequest = (reply: FastifyReply, message: string, path?: string): FastifyReply => {
  const error = new ApiError('FERRY_API_BAD_REQUEST', message);
  return reply.code(error.status).send({ ...error.toJSON(), ...(path === undefined ? {} : { path }) });
};

const jobIdOf = (body: unknown): string | undefined => {
  const id = (body as JobRef | undefined)?.jobId;
  return typeof id === 'string' && id.length > 0 ? id : undefined;
};

export function rulesRoutes(app: FastifyInstance, host: RulesHost): void {
  app.post('/api/install', async (req, reply) => {
    try {
      return await reply.code(201).send(host.engine.install(req.body));
    } catch (e) {
      return sendError(reply, e);
    }
  });
  for (const op of ['start', 'stop', 'uninstall'] as const) {
    app.post(`/api/${op}`, async (req, reply) => {
      const id = jobIdOf(req.body);
      if (id === undefined) return badRequest(reply, 'body must be {"jobId": "<id>"}', 'jobId');
      try {
        return host.engine[op](id);
      } catch (e) {
        return sendError(reply, e);
      }
    });
  }
  app.post('/api/move', async (req, reply) => {
    const body = req.body as Record<string, unknown> | undefined;
    try {
      // A relocation object (it carries jobInfo) moves a job HERE; {jobId, target_runtime, targetResource} moves one AWAY.
      if (body !== undefined && typeof body === 'object' && 'jobInfo' in body) return await reply.code(201).send(host.moveIn(body));
      const id = jobIdOf(body);
      const target = body?.['target_runtime'];
      const resource = body?.['targetResource'];
      if (id === undefined || typeof target !== 'string' || typeof resource !== 'string') {
        return badRequest(reply, 'body must be a relocation object, or {"jobId", "target_runtime", "targetResource"}');
      }
      const r = await host.moveOut(id, target, resource);
      return { relocation: { ...r.relocation, snapshot: undefined }, target: r.target };
    } catch (e) {
      return sendError(reply, e);
    }
  });
  app.get('/api/jobs', async () => host.engine.list());
  app.get<{ Params: { jobId: string } }>('/api/jobs/:jobId', async (req, reply) => {
    try {
      return host.engine.status(req.params.jobId);
    } catch (e) {
      return sendError(reply, e);
    }
  });
}
