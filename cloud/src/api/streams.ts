/** @module GET /api/streams/<kid>/<ev>?from=&to=: a stream's stored points. */
import type { FastifyInstance } from 'fastify';
import type { TimeSeriesStore } from '../ingest/index.ts';

export function streamRoutes(app: FastifyInstance, series: TimeSeriesStore): void {
  app.get<{ Params: { kid: string; ev: string }; Querystring: { from?: string; to?: string } }>('/api/streams/:kid/:ev', async (req) => {
    const from = Number(req.query.from ?? 0);
    const to = Number(req.query.to ?? Number.MAX_SAFE_INTEGER);
    // A stream is one source's events: they are listed in (epoch, seq) order, never by a clock. `ts` (arrival
    // at the cloud) only selects the range: a message that waited in the re-order buffer, or was taken by
    // another worker, can arrive later than its successors.
    const points = await series.query(`${req.params.kid}/${req.params.ev}`, from, to);
    return [...points].sort((a, b) => a.ep - b.ep || a.sq - b.sq);
  });
}
