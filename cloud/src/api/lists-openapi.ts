/**
 * @module The list routes' fragments of the cloud's OpenAPI document (openapi.ts): composite streams
 * (so-list.ts), functions by hash (function-list.ts), commands and broadcasts (command-lists.ts). What the
 * dashboard's pages read (docs/operations.md "Dashboard").
 */
import { STATES } from '../commands/model.ts';
import { LIST_MAX } from './command-lists.ts';
import { json, type OpenApiFragment, op, query } from './openapi.ts';

const limit = query('limit', `items at most (default 100, at most ${LIST_MAX})`, { type: 'integer', minimum: 1, maximum: LIST_MAX });
const owner = query('owner', "a global credential's choice of one owner (an owner's credential sees its own)", { type: 'string' });
const ok = (description: string, schema: unknown) => ({ responses: { '200': { description, ...json(schema) } } });
const arrayOf = (field: string, items: unknown) => ({ type: 'object', required: [field], properties: { [field]: { type: 'array', items } } });
const counters = {
  type: 'object',
  additionalProperties: { type: 'integer' },
  description: 'computed, droppedNotNewer, filtered, nulls, errors, forbidden, duplicates',
};

export const SO_LIST_OPENAPI: OpenApiFragment = {
  paths: {
    '/api/v1/sos': {
      get: op(
        "The caller's service objects, oldest first: where each is hosted, its streams and their counters where this process computes them",
        {
          parameters: [limit, owner],
          ...ok(
            'the objects',
            arrayOf('sos', {
              type: 'object',
              required: ['id', 'owner', 'hosted', 'streams'],
              properties: {
                id: { type: 'string' },
                owner: { type: 'string' },
                created: { type: 'integer' },
                hosted: { type: 'string', description: 'cloud or gateway:<id>' },
                streams: { type: 'array', items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, counters } } },
              },
            }),
          ),
        },
        400,
      ),
    },
  },
};

export const FUNCTION_LIST_OPENAPI: OpenApiFragment = {
  paths: {
    '/api/v1/functions': {
      get: op(
        "The owner's functions by content hash, the most recently called first: calls, errors, the last error's code, the last call (counted by this process since it started)",
        {
          parameters: [limit, owner],
          ...ok('the functions', {
            ...arrayOf('functions', {
              type: 'object',
              required: ['hash', 'calls', 'errors', 'lastCallMs'],
              properties: {
                hash: { type: 'string' },
                calls: { type: 'integer' },
                errors: { type: 'integer' },
                lastCallMs: { type: 'integer' },
                lastError: { type: 'string' },
              },
            }),
          }),
        },
        400,
      ),
    },
  },
};

const timeline = {
  type: 'array',
  description: 'every state the command entered, oldest first',
  items: { type: 'object', properties: { state: { type: 'string', enum: [...STATES] }, at: { type: 'integer' } } },
};

export const COMMAND_LISTS_OPENAPI: OpenApiFragment = {
  paths: {
    '/api/v1/commands': {
      get: op(
        "The caller's commands, newest first, each with its timeline (a state filter looks through the newest 5000)",
        {
          parameters: [
            query('device', 'only this device', { type: 'string' }),
            query('state', 'only commands in this state', { type: 'string', enum: [...STATES] }),
            limit,
            owner,
          ],
          ...ok(
            'the commands',
            arrayOf('commands', {
              type: 'object',
              properties: { id: { type: 'string' }, device: { type: 'string' }, state: { type: 'string' }, history: timeline },
            }),
          ),
        },
        400,
      ),
    },
    '/api/v1/broadcasts': {
      get: op(
        "The caller's broadcasts, newest first (GET /api/v1/broadcasts/{id} gives one's devices by state)",
        {
          parameters: [limit, owner],
          ...ok(
            'the broadcasts',
            arrayOf('broadcasts', {
              type: 'object',
              properties: { id: { type: 'string' }, created_at: { type: 'integer' }, target: { type: 'object' }, devices: { type: 'integer' } },
            }),
          ),
        },
        400,
      ),
    },
  },
};

export const RULE_RETURN_OPENAPI: OpenApiFragment = {
  paths: {
    '/api/v1/rules/return': {
      post: op(
        "Move a rule job from a gateway back to the cloud, with its window state (the cloud's admin): the gateway hands it over through a one-time ticket",
        {
          requestBody: {
            required: true,
            ...json({ type: 'object', required: ['gateway', 'jobId'], properties: { gateway: { type: 'string' }, jobId: { type: 'string' } } }),
          },
          ...ok('moved', {
            type: 'object',
            properties: { jobId: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, jobInfo: { type: 'object' } },
          }),
        },
        400,
        502,
        504,
      ),
    },
  },
};
