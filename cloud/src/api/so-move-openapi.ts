/** @module The composite-stream move route's fragment of the cloud's OpenAPI document (openapi.ts; docs/composite-streams.md "Moves"). */
import { json, type OpenApiFragment, op, path } from './openapi.ts';

export const SO_MOVE_OPENAPI: OpenApiFragment = {
  paths: {
    '/api/v1/sos/{so}/move': {
      parameters: [path('so', 'any object of the connected component to move')],
      post: op(
        "Move the object's connected component, with its latest values and last outputs, to the cloud or to a gateway of its owner (an operator)",
        {
          requestBody: {
            required: true,
            ...json({ type: 'object', required: ['to'], properties: { to: { type: 'string', description: 'cloud or gateway:<id>' } } }),
          },
          responses: {
            '200': {
              description: 'moved',
              ...json({ type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' }, so: { type: 'array', items: { type: 'string' } } } }),
            },
          },
        },
        400,
        502,
      ),
    },
  },
};
