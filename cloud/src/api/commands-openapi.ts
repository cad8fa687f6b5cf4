/**
 * @module The command, broadcast and device-tag routes' fragment of the cloud's OpenAPI document
 * (openapi.ts; docs/actions.md "REST API"). Request bodies are the zod schemas the routes validate with.
 */
import { z } from 'zod';
import { STATES } from '../commands/model.ts';
import { BroadcastBody, TagsBody } from './broadcasts.ts';
import { SendBody } from './commands.ts';
import { json, type OpenApiFragment, op, path, ref } from './openapi.ts';

const input = (schema: z.ZodType) => z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' });
const ID = path('id', 'the id the cloud gave');
const accepted = (schema: unknown) => ({ '202': { description: 'accepted', ...json(schema) } });

export const COMMANDS_OPENAPI: OpenApiFragment = {
  paths: {
    '/api/v1/commands': {
      post: op(
        'Send a command to one device (an operator of its owner): queued, signed and sent when the device is online',
        {
          requestBody: { required: true, ...json(ref('CommandRequest')) },
          responses: accepted({ type: 'object', properties: { id: { type: 'string' }, state: { type: 'string', enum: [...STATES] } } }),
        },
        400,
        413,
      ),
    },
    '/api/v1/commands/batch': {
      post: op(
        'Up to 10 commands (1 MiB) in one call, a result per item',
        {
          requestBody: {
            required: true,
            ...json({ type: 'object', required: ['items'], properties: { items: { type: 'array', items: ref('CommandRequest') } } }),
          },
          responses: { '200': { description: 'one result per item', ...json({ type: 'object' }) } },
        },
        400,
        413,
      ),
    },
    '/api/v1/commands/{id}': {
      parameters: [ID],
      get: op('A command and its state', { responses: { '200': { description: 'the command', ...json(ref('Command')) } } }),
      delete: op(
        'Cancel a command not finished yet (it ends failed, reason cancelled)',
        { responses: { '200': { description: 'cancelled', ...json(ref('Command')) } } },
        409,
      ),
    },
    '/api/v1/broadcasts': {
      post: op(
        "One command to a list of devices, a namespace, a tag query or all of the owner's devices",
        {
          requestBody: { required: true, ...json(input(BroadcastBody)) },
          responses: accepted({ type: 'object', properties: { id: { type: 'string' }, devices: { type: 'integer' } } }),
        },
        400,
        413,
      ),
    },
    '/api/v1/broadcasts/{id}': {
      parameters: [ID],
      get: op("A broadcast's status: counts by state and the devices in each", {
        responses: { '200': { description: 'the status', ...json({ type: 'object' }) } },
      }),
      delete: op('Cancel what is not finished yet', { responses: { '200': { description: 'cancelled', ...json({ type: 'object' }) } } }),
    },
    '/api/v1/devices/{id}/tags': {
      parameters: [ID],
      put: op(
        "Set a device's tags (an operator)",
        { requestBody: { required: true, ...json(input(TagsBody)) }, responses: { '200': { description: 'set' } } },
        400,
      ),
      get: op("A device's tags", { responses: { '200': { description: 'the tags', ...json(input(TagsBody)) } } }),
    },
  },
  schemas: {
    CommandRequest: input(SendBody),
    Command: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        device: { type: 'string' },
        state: { type: 'string', enum: [...STATES] },
        priority: { type: 'string' },
        command: { type: 'object' },
        attempts: { type: 'integer' },
        reason: { type: 'string' },
      },
    },
  },
};
