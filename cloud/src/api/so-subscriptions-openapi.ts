/**
 * @module The fragment of the cloud's OpenAPI document (openapi.ts) for a stream's HTTP-callback
 * subscriptions and device-telemetry mappings (docs/composite-streams.md "HTTP callbacks", "From devices").
 */
import { json, type OpenApiFragment, op, path } from './openapi.ts';

const PARAMS = [path('so', 'the service object'), path('stream', 'a stream of the object')];
const ID = path('id', 'the id the cloud gave');
const STREAM = '/api/v1/sos/{so}/streams/{stream}';

/** POST, GET and DELETE /{id} of one collection under a stream. */
function collection(what: string, input: unknown) {
  return {
    [`${STREAM}/${what}`]: {
      parameters: PARAMS,
      post: op(
        `Add a ${what.slice(0, -1)} (an operator)`,
        { requestBody: { required: true, ...json(input) }, responses: { '201': { description: 'added', ...json({ type: 'object' }) } } },
        400,
        409,
      ),
      get: op(`The caller's ${what} of the stream`, { responses: { '200': { description: what, ...json({ type: 'array', items: { type: 'object' } }) } } }),
    },
    [`${STREAM}/${what}/{id}`]: {
      parameters: [...PARAMS, ID],
      delete: op(`Remove a ${what.slice(0, -1)} (an operator)`, { responses: { '204': { description: 'removed' } } }),
    },
  };
}

export const SO_SUBSCRIPTIONS_OPENAPI: OpenApiFragment = {
  paths: {
    ...collection('subscriptions', {
      type: 'object',
      required: ['url', 'secret'],
      properties: {
        url: { type: 'string', description: 'an absolute http(s) URL of a public address; each stored value is POSTed to it signed (X-Ferry-Signature)' },
        secret: { type: 'string', minLength: 16, maxLength: 256, description: 'the HMAC-SHA256 key of the signature' },
      },
    }),
    ...collection('mappings', {
      type: 'object',
      required: ['device', 'ev', 'channels'],
      properties: {
        device: { type: 'string', description: "a device of the object's owner" },
        ev: { type: 'string', description: 'the event kind of its messages' },
        channels: { type: 'object', additionalProperties: { type: 'string' }, description: 'channel name -> field of the message data' },
      },
    }),
  },
};
