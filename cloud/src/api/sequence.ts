/**
 * @module POST /api/devices/:kid/reset-sequence: an operator's reset of one source's sequencing (docs/ingest.md,
 * "Resetting a source"): what it buffered is released and stored, its window is forgotten, its next message
 * starts afresh. For a board that lost its boot counter, or whose counter glitched; the `late` and `jump`
 * counters are the signals that one needs it.
 */
import type { FastifyInstance } from 'fastify';
import type { DeviceRegistry } from '../devices/registry.ts';
import type { Ingest } from '../ingest/index.ts';
import { principalOf } from './auth.ts';
import { deviceFor } from './devices.ts';

export function sequenceRoutes(app: FastifyInstance, ingest: Ingest, devices: DeviceRegistry): void {
  app.post<{ Params: { kid: string } }>('/api/devices/:kid/reset-sequence', { config: { access: 'operator' } }, async (req) => {
    const p = principalOf(req);
    if (p.owner !== undefined) deviceFor(devices, p, req.params.kid, 'operator');
    const released = await ingest.forgetSource(req.params.kid);
    return { kid: req.params.kid, released };
  });
}
