/**
 * @module The notification routes' fragment of the cloud's OpenAPI document (openapi.ts;
 * docs/notifications.md). The request bodies of channels and subscriptions are the zod schemas the routes
 * validate with, turned into OpenAPI 3.0 schemas, so the description cannot drift from what is accepted.
 */
import { z } from 'zod';
import { channelInput, subscriptionInput } from '../notify/config.ts';
import { DELIVERY_STATES } from '../notify/types.ts';
import { json, type OpenApiFragment, op, path, query, ref } from './openapi.ts';

const BASE = '/api/v1/notify';
const ID = path('id', 'the id the cloud gave');
const OWNER = query('owner', "one owner's (a global credential only)", { type: 'string' });
const LIMIT = query('limit', 'at most this many (default 50, at most 500)');
const input = (schema: z.ZodType) => z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input' });
const ok = (description: string, schema: unknown) => ({ '200': { description, ...json(schema) } });
const removed = ok('removed', { type: 'object', properties: { id: { type: 'string' }, removed: { type: 'boolean' } } });

export const NOTIFY_OPENAPI: OpenApiFragment = {
  paths: {
    [`${BASE}/channels`]: {
      get: op('The channels (secrets never answered)', { parameters: [OWNER], responses: ok('channels', { type: 'array', items: ref('NotifyChannel') }) }),
      post: op(
        'Add a channel: MQTT, webhook (signed) or email',
        { requestBody: { required: true, ...json(ref('NotifyChannelInput')) }, responses: { '201': { description: 'added', ...json(ref('NotifyChannel')) } } },
        400,
      ),
    },
    [`${BASE}/channels/{id}`]: {
      parameters: [ID],
      get: op('One channel', { responses: ok('the channel', ref('NotifyChannel')) }),
      put: op(
        'Replace a channel',
        { requestBody: { required: true, ...json(ref('NotifyChannelInput')) }, responses: ok('replaced', ref('NotifyChannel')) },
        400,
      ),
      delete: op('Delete a channel without subscriptions', { responses: removed }, 409),
    },
    [`${BASE}/subscriptions`]: {
      get: op('The subscriptions', { parameters: [OWNER], responses: ok('subscriptions', { type: 'array', items: { type: 'object' } }) }),
      post: op(
        'Subscribe a channel to events (kinds, source pattern, minimum priority, template, de-duplication key, quiet repeat interval)',
        {
          requestBody: { required: true, ...json(ref('NotifySubscriptionInput')) },
          responses: { '201': { description: 'subscribed', ...json({ type: 'object' }) } },
        },
        400,
      ),
    },
    [`${BASE}/subscriptions/{id}`]: { parameters: [ID], delete: op('Unsubscribe', { responses: removed }) },
    [`${BASE}/deliveries`]: {
      get: op(
        'Deliveries, newest first, with their state, attempts and last error',
        {
          parameters: [query('state', 'one state', { type: 'string', enum: [...DELIVERY_STATES] }), LIMIT, OWNER],
          responses: ok('deliveries', { type: 'array', items: ref('NotifyDelivery') }),
        },
        400,
      ),
    },
    [`${BASE}/deliveries/{id}`]: { parameters: [ID], get: op('One delivery', { responses: ok('the delivery', ref('NotifyDelivery')) }) },
    [`${BASE}/dead-letters`]: {
      get: op('Deliveries that used up their attempts', {
        parameters: [LIMIT, OWNER],
        responses: ok('dead letters', { type: 'array', items: ref('NotifyDelivery') }),
      }),
    },
    [`${BASE}/dead-letters/{id}/replay`]: {
      parameters: [ID],
      post: op(
        'Queue a dead letter again',
        { responses: ok('queued', { type: 'object', properties: { id: { type: 'string' }, state: { type: 'string' } } }) },
        409,
      ),
    },
    [`${BASE}/test`]: {
      post: op(
        'Send a test message on a channel now, outside the queue; answers how the channel took it',
        {
          requestBody: {
            required: true,
            ...json({
              type: 'object',
              required: ['channelId'],
              properties: { channelId: { type: 'string' }, kind: { type: 'string' }, source: { type: 'string' }, data: { type: 'object' } },
            }),
          },
          responses: ok('how the channel took it', { type: 'object' }),
        },
        400,
        502,
        504,
      ),
    },
  },
  schemas: {
    NotifyChannelInput: input(channelInput),
    NotifySubscriptionInput: input(subscriptionInput),
    NotifyChannel: {
      type: 'object',
      properties: { id: { type: 'string' }, owner: { type: 'string' }, name: { type: 'string' }, kind: { type: 'string' }, config: { type: 'object' } },
    },
    NotifyDelivery: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        state: { type: 'string', enum: [...DELIVERY_STATES] },
        attempts: { type: 'integer' },
        lastError: { type: 'string' },
      },
    },
  },
};
