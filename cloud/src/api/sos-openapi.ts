/**
 * @module The composite-stream routes' fragment of the cloud's OpenAPI document (openapi.ts;
 * docs/composite-streams.md "REST API").
 */
import { json, type OpenApiFragment, op, path, query, ref } from './openapi.ts';

const SO = path('so', 'the service object id the cloud gave at creation');
const STREAM = path('stream', 'a stream of the object');

export const SOS_OPENAPI: OpenApiFragment = {
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
  },
  schemas: {
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
};
