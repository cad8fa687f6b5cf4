/** @module The dashboard data routes' fragment of the cloud's OpenAPI document (api/openapi.ts; docs/operations.md "Dashboard"). */
import { json, type OpenApiFragment, op, query } from '../api/openapi.ts';

const str = { type: 'string' };
const device = { ...query('device', "a device id (the caller's owner's; another owner's answers 404)", str), required: true };

export const DASHBOARD_OPENAPI: OpenApiFragment = {
  paths: {
    '/api/v1/series': {
      get: op(
        "A device stream's numeric fields downsampled on the server: per bucket its time, mean, min, max and count; empty buckets are left out",
        {
          parameters: [
            device,
            { ...query('event', 'the event (stream) name', str), required: true },
            query('field', 'one field (a top-level member, or `a.b`); default every numeric field (16 at most)', str),
            query('from', 'start, ms since the epoch (default: to minus one hour)'),
            query('to', 'end (exclusive), ms since the epoch (default: now)'),
            query('points', 'buckets at most, 1 to 5000 (default 500)'),
          ],
          responses: {
            '200': {
              description:
                '{device, event, from, to, points (stored points read), truncated (older points of the range left unread), fields: {<name>: {step, t[], mean[], min[], max[], count[]}}}',
              ...json({ type: 'object' }),
            },
          },
        },
        400,
      ),
    },
    '/api/v1/series/events': {
      get: op(
        'The events a device sent since the cloud started',
        {
          parameters: [device],
          responses: { '200': { description: '{device, events: string[]}', ...json({ type: 'object' }) } },
        },
        400,
      ),
    },
    '/api/v1/live': {
      get: op(
        "Server-sent events of a device's telemetry as ingest releases it: event `point`, data {device, event, t, ep, sq, value}",
        {
          parameters: [device, query('event', 'only this event', str)],
          responses: { '200': { description: 'an event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } } },
        },
        400,
      ),
    },
  },
};
