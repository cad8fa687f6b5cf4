/**
 * @module POST /api/devices/:kid/reset-sequence: an operator's reset of one source's sequencing (docs/ingest.md,
 * "Resetting a source"): what it buffered is released and stored, its window is forgotten, its next message
 * starts afresh. For a board that lost its boot counter, or whose counter glitched; the `late` and `jump`
 * counters are the signals that one needs it.
 */
import type { FastifyInstance } from 'fastify';
import type { Ingest } from '../ingest/index.ts';

export function sequenceRoutes(app: FastifyInstance, ingest: Ingest): void {
  app.post<{ Params: { kid: string } }>('/api/devices/:kid/reset-sequence', async (req) => {
    const released = await ingest.forgetSource(req.params.kid);
    return { kid: req.params.kid, released };
  });
}
