/**
 * @module Moving composite streams (docs/composite-streams.md, "Moves"): `POST /api/v1/sos/{so}/move` with
 * `{"to": "cloud" | "gateway:<id>"}` moves the object's connected component, with its latest values and last
 * outputs, for an operator of the objects' owner (another owner's object answers 404, a gateway of another
 * owner FERRY_API_MOVE_TARGET); the answer names where it came from, where it went and the objects moved.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '@ferry/rules-host';
import type { SoMover } from '../compose/move.ts';
import { principalOf } from './auth.ts';

export function soMoveRoutes(app: FastifyInstance, mover: SoMover): void {
  app.post<{ Params: { so: string } }>('/api/v1/sos/:so/move', { config: { access: 'operator' } }, async (req) => {
    const p = principalOf(req);
    const to = (req.body as { to?: unknown } | undefined)?.to;
    if (typeof to !== 'string' || to.length > 64) throw new ApiError('FERRY_API_BAD_REQUEST', 'body must be {"to": "cloud" | "gateway:<id>"}');
    const r = await mover.move({ owner: p.owner, global: p.owner === undefined }, req.params.so, to);
    if (!r.ok) throw r.error;
    return r.value;
  });
}
