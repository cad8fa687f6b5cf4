/**
 * @module The composite-stream routes of the gateway's API (docs/gateway.md, "Composite streams"), reachable
 * from the cloud over the control channel like the rule routes: list and install objects, feed a simple
 * stream, and move a connected component in or out. `POST /api/so/move` mirrors the rules' `/api/move`: a
 * body carrying snapshots moves them HERE, `{"so"}` moves that object's component AWAY and answers its
 * snapshots (the same ones again if asked again, so a reply lost on the way loses nothing). The API is the
 * gateway's own (its bearer token), so a caller acts on every object; the cloud checks owners before it asks.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '@ferry/rules-host';
import type { ComposeHost, HostCaller } from './host.ts';

/** What a move carries on the wire, both ways. */
export const MOVE_FORMAT = 'ferry-compose-move/1';
/** Objects one move into the gateway carries at most. */
export const MAX_MOVE_OBJECTS = 256;

const GATEWAY: HostCaller = { global: true };

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const badRequest = (message: string): ApiError => new ApiError('FERRY_API_BAD_REQUEST', message);
const text = (x: unknown): x is string => typeof x === 'string' && x.length > 0 && x.length <= 256;

export function composeRoutes(app: FastifyInstance, host: ComposeHost): void {
  app.get('/api/so', async () => host.list(GATEWAY));
  app.post('/api/so', async (req, reply) => {
    const b = req.body;
    if (!isRecord(b) || !text(b['id']) || !text(b['owner']) || !isRecord(b['document']))
      throw badRequest('body must be {"id": "<so id>", "owner": "<owner id>", "document": {...}}');
    const r = await host.create(GATEWAY, b['id'], b['owner'], b['document']);
    if (!r.ok) throw r.error;
    return await reply.code(201).send({ id: b['id'] });
  });
  app.post('/api/so/push', async (req) => {
    const b = req.body;
    if (!isRecord(b) || !text(b['so']) || !text(b['stream'])) throw badRequest('body must be {"so", "stream", "update": {channels, lastUpdate}}');
    const r = await host.push(GATEWAY, b['so'], b['stream'], b['update']);
    if (!r.ok) throw r.error;
    return { outcome: r.value.outcome, outputs: r.value.outputs.length };
  });
  app.post('/api/so/move', async (req, reply) => {
    const b = req.body;
    if (isRecord(b) && b['format'] === MOVE_FORMAT && Array.isArray(b['snapshots'])) {
      if (b['snapshots'].length > MAX_MOVE_OBJECTS) throw badRequest(`a move carries at most ${MAX_MOVE_OBJECTS} objects`);
      const r = await host.moveIn(GATEWAY, b['snapshots']);
      if (!r.ok) throw r.error;
      return await reply.code(201).send({ format: MOVE_FORMAT, so: b['snapshots'].map((s) => (s as { so?: unknown }).so) });
    }
    if (!isRecord(b) || !text(b['so'])) throw badRequest(`body must be {"format": "${MOVE_FORMAT}", "snapshots": [...]} or {"so": "<so id>"}`);
    const r = await host.moveOut(GATEWAY, b['so']);
    if (!r.ok) throw r.error;
    return { format: MOVE_FORMAT, snapshots: r.value };
  });
}
