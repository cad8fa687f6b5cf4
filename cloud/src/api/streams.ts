/**
 * @module GET /api/streams/<kid>/<ev>?from=&to=&limit=: a stream's stored points, for viewers of the device's
 * owner. At most `limit` points are read (default and most: STREAM_PAGE_MAX), the first by arrival; when the
 * range holds more, the answer's `Ferry-Next-From` header is where the next page starts (docs/cloud.md).
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '@ferry/rules-host';
import type { DeviceRegistry } from '../devices/registry.ts';
import type { TimeSeriesStore } from '../ingest/index.ts';
import { principalOf } from './auth.ts';
import { deviceFor } from './devices.ts';

/** Points one request reads at most, and by default (docs/limits.md). */
export const STREAM_PAGE_MAX = 100_000;
export const NEXT_FROM_HEADER = 'ferry-next-from';

function bound(q: Record<string, string | undefined>, key: string, fallback: number, min: number, max: number): number {
  const v = q[key];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw new ApiError('FERRY_API_BAD_REQUEST', `${key} must be an integer from ${min} to ${max}`, { path: key });
  return n;
}

export function streamRoutes(app: FastifyInstance, series: TimeSeriesStore, devices: DeviceRegistry): void {
  app.get<{ Params: { kid: string; ev: string }; Querystring: Record<string, string | undefined> }>(
    '/api/streams/:kid/:ev',
    { config: { access: 'viewer' } },
    async (req, reply) => {
      const p = principalOf(req);
      // The cloud's admin reads any stream, also one whose device was removed since; others only their devices'.
      if (p.owner !== undefined) deviceFor(devices, p, req.params.kid, 'viewer');
      const q = req.query ?? {};
      const from = bound(q, 'from', 0, 0, Number.MAX_SAFE_INTEGER);
      const to = bound(q, 'to', Number.MAX_SAFE_INTEGER, 0, Number.MAX_SAFE_INTEGER);
      if (from >= to) throw new ApiError('FERRY_API_BAD_REQUEST', 'from must be before to', { path: 'from' });
      const limit = bound(q, 'limit', STREAM_PAGE_MAX, 1, STREAM_PAGE_MAX);
      // One point past the page tells whether there is a next one, and where it starts.
      const points = [...(await series.query(`${req.params.kid}/${req.params.ev}`, from, to, { count: limit + 1 }))];
      const past = points.length > limit ? points.pop() : undefined;
      if (past !== undefined) void reply.header(NEXT_FROM_HEADER, String(past.ts));
      // A stream is one source's events: they are listed in (epoch, seq) order, never by a clock. `ts` (arrival
      // at the cloud) only selects the range: a message that waited in the re-order buffer, or was taken by
      // another worker, can arrive later than its successors.
      return points.sort((a, b) => a.ep - b.ep || a.sq - b.sq);
    },
  );
}
