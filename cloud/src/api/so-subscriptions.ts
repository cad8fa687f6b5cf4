/**
 * @module HTTP callback subscriptions of service objects' streams (docs/composite-streams.md, "HTTP
 * callbacks"): `POST|GET /api/v1/sos/{so}/streams/{stream}/subscriptions` and
 * `DELETE .../subscriptions/{id}`. An owner's credential acts for its owner (a stream it may not read, or
 * another owner's subscription, answers 404); a global credential for every owner.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CallbackDispatcher } from '../compose/callbacks.ts';
import type { Caller } from '../compose/hosting.ts';
import { principalOf } from './auth.ts';

type Params = { so: string; stream: string };
const BASE = '/api/v1/sos/:so/streams/:stream/subscriptions';

/** A request's principal as the host's caller. */
export function callerOf(req: FastifyRequest): Caller {
  const p = principalOf(req);
  return p.owner === undefined ? { global: true } : { owner: p.owner };
}

export function soSubscriptionRoutes(app: FastifyInstance, callbacks: CallbackDispatcher): void {
  // Body {url, secret}: a URL and a secret are a few hundred bytes.
  app.post<{ Params: Params }>(BASE, { config: { access: 'operator' }, bodyLimit: 8192 }, async (req, reply) =>
    reply.code(201).send(await callbacks.add(callerOf(req), req.params.so, req.params.stream, req.body)),
  );
  app.get<{ Params: Params }>(BASE, { config: { access: 'viewer' } }, async (req) => callbacks.list(callerOf(req), req.params.so, req.params.stream));
  app.delete<{ Params: Params & { id: string } }>(`${BASE}/:id`, { config: { access: 'operator' } }, async (req, reply) => {
    callbacks.remove(callerOf(req), req.params.so, req.params.stream, req.params.id);
    return reply.code(204).send();
  });
}
