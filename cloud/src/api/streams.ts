/** @module GET /api/streams/<kid>/<ev>?from=&to=: a stream's stored points, for viewers of the device's owner. */
import type { FastifyInstance } from 'fastify';
import type { DeviceRegistry } from '../devices/registry.ts';
import type { TimeSeriesStore } from '../ingest/index.ts';
import { principalOf } from './auth.ts';
import { deviceFor } from './devices.ts';

export function streamRoutes(app: FastifyInstance, series: TimeSeriesStore, devices: DeviceRegistry): void {
  app.get<{ Params: { kid: string; ev: string }; Querystring: { from?: string; to?: string } }>(
    '/api/streams/:kid/:ev',
    { config: { access: 'viewer' } },
    async (req) => {
      const p = principalOf(req);
      // The cloud's admin reads any stream, also one whose device was removed since; others only their devices'.
      if (p.owner !== undefined) deviceFor(devices, p, req.params.kid, 'viewer');
      const from = Number(req.query.from ?? 0);
      const to = Number(req.query.to ?? Number.MAX_SAFE_INTEGER);
      // A stream is one source's events: they are listed in (epoch, seq) order, never by a clock. `ts` (arrival
      // at the cloud) only selects the range: a message that waited in the re-order buffer, or was taken by
      // another worker, can arrive later than its successors.
      const points = await series.query(`${req.params.kid}/${req.params.ev}`, from, to);
      return [...points].sort((a, b) => a.ep - b.ep || a.sq - b.sq);
    },
  );
}
