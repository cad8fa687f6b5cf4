/**
 * @module HTTP callback subscriptions of service objects' streams (docs/composite-streams.md, "HTTP
 * callbacks"): `POST|GET /api/v1/sos/{so}/streams/{stream}/subscriptions` and
 * `DELETE .../subscriptions/{id}`; and the device-telemetry mappings into a stream ("From devices"):
 * `POST|GET .../mappings`, `DELETE .../mappings/{id}`. An owner's credential acts for its owner (a stream it
 * may not read, or another owner's subscription or mapping, answers 404); a global credential for every owner.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CallbackDispatcher } from '../compose/callbacks.ts';
import type { Caller } from '../compose/hosting.ts';
import type { TelemetryFeed } from '../compose/telemetry.ts';
import { principalOf } from './auth.ts';

type Params = { so: string; stream: string };
const STREAM = '/api/v1/sos/:so/streams/:stream';

/** A caller's things on one stream: callback subscriptions, telemetry mappings. */
interface StreamCollection {
  add(caller: Caller, so: string, stream: string, body: unknown): Promise<unknown>;
  list(caller: Caller, so: string, stream: string): unknown;
  remove(caller: Caller, so: string, stream: string, id: string): void;
}

/** A request's principal as the host's caller. */
export function callerOf(req: FastifyRequest): Caller {
  const p = principalOf(req);
  return p.owner === undefined ? { global: true } : { owner: p.owner };
}

/** POST (create, 201), GET (the caller's), DELETE /{id} (204) under `path`; reading needs a viewer, changing an operator. */
function collectionRoutes(app: FastifyInstance, path: string, c: StreamCollection): void {
  // A body is a URL and a secret, or a device, an event and at most 32 short channel names: a few hundred bytes.
  app.post<{ Params: Params }>(path, { config: { access: 'operator' }, bodyLimit: 8192 }, async (req, reply) =>
    reply.code(201).send(await c.add(callerOf(req), req.params.so, req.params.stream, req.body)),
  );
  app.get<{ Params: Params }>(path, { config: { access: 'viewer' } }, async (req) => c.list(callerOf(req), req.params.so, req.params.stream));
  app.delete<{ Params: Params & { id: string } }>(`${path}/:id`, { config: { access: 'operator' } }, async (req, reply) => {
    c.remove(callerOf(req), req.params.so, req.params.stream, req.params.id);
    return reply.code(204).send();
  });
}

export function soSubscriptionRoutes(app: FastifyInstance, callbacks: CallbackDispatcher, telemetry?: TelemetryFeed): void {
  collectionRoutes(app, `${STREAM}/subscriptions`, callbacks);
  if (telemetry !== undefined) collectionRoutes(app, `${STREAM}/mappings`, telemetry);
}
