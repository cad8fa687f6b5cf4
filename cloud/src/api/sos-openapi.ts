/**
 * @module The OpenAPI 3.0 description of the composite-stream routes, served at GET /api/v1/openapi.json
 * (https://spec.openapis.org/oas/v3.0.3). Written out here rather than generated: the routes validate their
 * input in code, not with fastify schemas. sos-openapi.test.ts checks it against the routes the server
 * declares, so a route added or removed without its description fails the test.
 */
import type { FastifyInstance } from 'fastify';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const path = (name: string, description: string) => ({ name, in: 'path', required: true, description, schema: { type: 'string' } });
const query = (name: string, description: string, schema: unknown = { type: 'integer', minimum: 0 }) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});
const SO = path('so', 'the service object id the cloud gave at creation');
const STREAM = path('stream', 'a stream of the object');
const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), { description: 'a FERRY_COMPOSE_* (or FERRY_AUTH_*, FERRY_API_*) error', ...json(ref('Error')) }]));
const op = (summary: string, x: Record<string, unknown>, ...codes: number[]) => ({
  summary,
  ...x,
  responses: { ...(x['responses'] as object), ...errors(401, 403, 404, 429, ...codes) },
});

export const SOS_OPENAPI = {
  openapi: '3.0.3',
  info: {
    title: 'Ferry composite streams',
    version: '1.0.0',
    description:
      "Service objects (ServIoTicy 0.1.0 and 0.2.0 documents) whose composite streams compute over other streams (docs/composite-streams.md). Owners act on their own objects; another owner's object answers 404.",
  },
  security: [{ bearer: [] }],
  paths: {
    '/api/v1/sos': {
      post: op(
        'Create a service object',
        {
          parameters: [query('owner', "the owner (a global credential only; others create their own owner's)", { type: 'string' })],
          requestBody: { required: true, ...json(ref('Document')) },
          responses: { '201': { description: 'created', ...json({ type: 'object', properties: { id: { type: 'string' }, created: { type: 'integer' } } }) } },
        },
        400,
        413,
      ),
    },
    '/api/v1/sos/{so}': {
      parameters: [SO],
      get: op('Read a service object', { responses: { '200': { description: 'the object', ...json(ref('Record')) } } }),
      put: op(
        "Replace an object's document (the streams it keeps keep their values)",
        { requestBody: { required: true, ...json(ref('Document')) }, responses: { '200': { description: 'replaced', ...json(ref('Record')) } } },
        400,
        409,
        413,
      ),
      delete: op('Delete a service object no other object reads', { responses: { '204': { description: 'deleted' } } }, 409),
    },
    '/api/v1/sos/{so}/streams/{stream}': {
      parameters: [SO, STREAM],
      put: op(
        'Feed a simple stream a sensor update',
        {
          requestBody: { required: true, ...json(ref('SensorUpdate')) },
          responses: {
            '200': {
              description: 'what happened to the update, and how many values its propagation stored',
              ...json({
                type: 'object',
                properties: {
                  outcome: { type: 'string', enum: ['accepted', 'not-newer', 'pre-filter', 'post-filter', 'null', 'error', 'forbidden', 'duplicate'] },
                  outputs: { type: 'integer' },
                },
              }),
            },
          },
        },
        400,
        413,
      ),
      get: op(
        "A stream's stored values by time range, oldest first",
        {
          parameters: [
            query('from', 'lastUpdate from (ms, inclusive)'),
            query('to', 'lastUpdate to (ms, inclusive)'),
            query('limit', 'at most this many (1000 at most)'),
          ],
          responses: { '200': { description: 'values', ...json({ type: 'object', properties: { data: { type: 'array', items: ref('StreamValue') } } }) } },
        },
        400,
      ),
    },
    '/api/v1/sos/{so}/streams/{stream}/lastUpdate': {
      parameters: [SO, STREAM],
      get: op("A stream's latest value", { responses: { '200': { description: 'the latest value', ...json(ref('StreamValue')) } } }),
    },
    '/api/v1/sos/{so}/streams/{stream}/events': {
      parameters: [SO, STREAM],
      get: op('Server-sent events of the stream\'s stored values ("value" events; one "end" event when access ends)', {
        responses: { '200': { description: 'an event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } } },
      }),
    },
    '/api/v1/sos/{so}/streams/{stream}/explain': {
      parameters: [SO, STREAM],
      get: op(
        'Why the last n updates reaching the stream did or did not produce output, with its counters',
        {
          parameters: [query('n', 'entries (64 at most)')],
          responses: { '200': { description: 'counters and entries', ...json(ref('Explain')) } },
        },
        400,
      ),
    },
    '/api/v1/sos/{so}/grants': {
      parameters: [SO],
      get: op("The object's grants", {
        responses: { '200': { description: 'grants', ...json({ type: 'object', properties: { grants: { type: 'array', items: ref('Grant') } } }) } },
      }),
      post: op(
        'Grant an owner or a public token the reading of a stream',
        {
          requestBody: { required: true, ...json(ref('Grant')) },
          responses: {
            '201': { description: 'granted' },
            '200': { description: 'the grant was there' },
          },
        },
        400,
      ),
      delete: op('Revoke a grant (the body names it); the flow through it stops at once', {
        requestBody: { required: true, ...json(ref('Grant')) },
        responses: { '204': { description: 'revoked' } },
      }),
    },
    '/api/v1/openapi.json': {
      get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.0', ...json({ type: 'object' }) } } },
    },
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an API token, an owner private token, or the admin credential' } },
    schemas: {
      Error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, num: { type: 'integer' }, message: { type: 'string' } } },
      Document: {
        type: 'object',
        description: 'a ServIoTicy 0.1.0 or 0.2.0 service-object document, with optional Ferry fields (owner, grants, tokens)',
        required: ['streams'],
        properties: { version: { type: 'string', enum: ['0.1.0', '0.2.0'] }, streams: { type: 'object' }, groups: { type: 'object' } },
      },
      Record: {
        type: 'object',
        properties: { id: { type: 'string' }, owner: { type: 'string' }, created: { type: 'integer' }, document: ref('Document') },
      },
      SensorUpdate: {
        type: 'object',
        required: ['channels', 'lastUpdate'],
        properties: {
          channels: { type: 'object', additionalProperties: { type: 'object', properties: { 'current-value': {} } } },
          lastUpdate: { type: 'integer' },
        },
      },
      StreamValue: {
        type: 'object',
        properties: { channels: { type: 'object' }, lastUpdate: { type: 'integer' }, id: { type: 'string', description: 'idempotency key' } },
      },
      Grant: {
        type: 'object',
        required: ['stream', 'to'],
        properties: {
          stream: { type: 'string', description: 'a stream name, or * for all' },
          to: {
            oneOf: [
              { type: 'object', properties: { owner: { type: 'string' } } },
              { type: 'object', properties: { token: { type: 'string' } } },
            ],
          },
        },
      },
      Explain: { type: 'object', properties: { counters: { type: 'object' }, entries: { type: 'array', items: { type: 'object' } } } },
    },
  },
} as const;

/** The OpenAPI path of a fastify URL (`/api/v1/sos/:so` -> `/api/v1/sos/{so}`). */
export const openApiPath = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

export function sosOpenApiRoute(app: FastifyInstance): void {
  app.get('/api/v1/openapi.json', { config: { access: 'viewer' } }, async () => SOS_OPENAPI);
}
