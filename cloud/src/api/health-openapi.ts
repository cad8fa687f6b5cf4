/** @module The health routes' fragment of the cloud's OpenAPI document (openapi.ts; docs/operations.md). */
import { json, type OpenApiFragment, op, query } from './openapi.ts';

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
    '/api/v1/health/probe': {
      get: op("The latency probe's summary (a global viewer)", { responses: { '200': { description: 'the probe', ...json({ type: 'object' }) } } }),
    },
  },
};
