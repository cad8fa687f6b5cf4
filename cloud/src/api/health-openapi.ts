/** @module The health routes' fragment of the cloud's OpenAPI document (openapi.ts; docs/operations.md). */
import { json, type OpenApiFragment, op, query, ref } from './openapi.ts';

const list = (description: string) => ({ '200': { description, ...json({ type: 'array', items: { type: 'object' } }) } });

export const HEALTH_OPENAPI: OpenApiFragment = {
  paths: {
    '/api/v1/health': {
      get: op('Health summary: readiness checks, supervised components, devices online and offline, recent incidents, the latency probe (a global viewer)', {
        responses: { '200': { description: 'the summary', ...json({ type: 'object' }) } },
      }),
    },
    '/api/v1/health/devices': {
      get: op(
        "Device liveness: last seen, online, usual interval, sequence gaps and bad signatures (an owner's devices; a global viewer every device, or one owner's)",
        {
          parameters: [
            query('state', 'online or offline', { type: 'string', enum: ['online', 'offline'] }),
            query('owner', 'one owner (a global viewer only)', { type: 'string' }),
            query('limit', 'at most this many rows'),
          ],
          responses: list('devices'),
        },
        400,
      ),
    },
    '/api/v1/health/incidents': {
      get: op("The supervisor's incidents, newest first (a global viewer)", {
        parameters: [query('limit', 'at most this many')],
        responses: list('incidents'),
      }),
    },
    '/api/v1/health/history': {
      get: op(
        'The health history (a global viewer): without series, the series recorded; with it, the mean per bucket of readyz, component.<name>.up, eventloop.delay_ms or probe.latency_ms over [from, to), downsampled on the server',
        {
          parameters: [
            query('series', 'a series name; absent: list the series', { type: 'string' }),
            query('from', 'Unix ms, inclusive (default: an hour before to)'),
            query('to', 'Unix ms, exclusive (default: now)'),
            query('points', 'at most this many points, 1..5000 (default 500)', { type: 'integer', minimum: 1, maximum: 5000 }),
          ],
          responses: { '200': { description: '{series: string[]}, or {series, step, points: [tMs, value | null][]}', ...json(ref('HealthHistory')) } },
        },
        400,
      ),
    },
    '/api/v1/health/probe': {
      get: op("The latency probe's summary (a global viewer)", { responses: { '200': { description: 'the probe', ...json({ type: 'object' }) } } }),
    },
  },
  schemas: {
    HealthHistory: {
      type: 'object',
      required: ['series'],
      properties: {
        series: {
          oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
          description: 'the series asked for, or (no series asked) every series recorded',
        },
        step: { type: 'integer', description: 'the width of one bucket, ms' },
        points: {
          type: 'array',
          items: { type: 'array', minItems: 2, maxItems: 2, items: { type: 'number', nullable: true }, description: '[bucket start (Unix ms), mean or null]' },
        },
      },
    },
  },
};
