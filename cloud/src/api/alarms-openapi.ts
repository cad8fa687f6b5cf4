/** @module The alarm routes' fragment of the cloud's OpenAPI document (openapi.ts; docs/operations.md "Alarms"). */
import { SEVERITIES } from '@ferry/rules';
import { ALARM_STATUSES } from '../alarms/types.ts';
import { json, type OpenApiFragment, op, path, query, ref } from './openapi.ts';

const ID = path('id', 'the id the cloud gave');
const OWNER = query('owner', "one owner's (a global credential only)", { type: 'string' });
const ok = (description: string, schema: unknown) => ({ '200': { description, ...json(schema) } });
const str = { type: 'string' };
const alarmOk = ok('the alarm, with its history', ref('Alarm'));

export const ALARMS_OPENAPI: OpenApiFragment = {
  paths: {
    '/api/v1/alarm-rules': {
      get: op('The alarm rules', {
        parameters: [OWNER],
        responses: ok('rules', { type: 'object', properties: { rules: { type: 'array', items: ref('AlarmRule') } } }),
      }),
      post: op(
        'Create an alarm rule: compiled to a rule job of jobType alarm, installed in the cloud or on a gateway of the owner',
        { requestBody: { required: true, ...json(ref('AlarmRuleInput')) }, responses: { '201': { description: 'created', ...json(ref('AlarmRule')) } } },
        400,
        502,
        503,
      ),
    },
    '/api/v1/alarm-rules/{id}': {
      parameters: [ID],
      get: op('One alarm rule', { responses: ok('the rule', ref('AlarmRule')) }),
      delete: op('Delete an alarm rule and uninstall its job', { responses: { '204': { description: 'deleted' } } }),
    },
    '/api/v1/alarms': {
      get: op(
        'Alarms, newest first',
        {
          parameters: [
            query('status', 'one status', { type: 'string', enum: [...ALARM_STATUSES] }),
            query('severity', 'one severity', { type: 'string', enum: [...SEVERITIES] }),
            query('type', 'one alarm type', str),
            query('source', 'one source', str),
            query('limit', 'at most this many (default 100, at most 1000)'),
            OWNER,
          ],
          responses: ok('alarms', { type: 'object', properties: { alarms: { type: 'array', items: ref('Alarm') } } }),
        },
        400,
      ),
    },
    '/api/v1/alarms/events': {
      get: op("Server-sent events: event `alarm`, data the alarm (without history), on every change of the caller's alarms", {
        responses: { '200': { description: 'an event stream', content: { 'text/event-stream': { schema: str } } } },
      }),
    },
    '/api/v1/alarms/{id}': { parameters: [ID], get: op('One alarm with its history', { responses: alarmOk }) },
    '/api/v1/alarms/{id}/ack': { parameters: [ID], post: op('Acknowledge an alarm', { responses: alarmOk }, 409) },
    '/api/v1/alarms/{id}/clear': { parameters: [ID], post: op('Clear an alarm', { responses: alarmOk }, 409) },
    '/api/v1/alarms/{id}/assignee': {
      parameters: [ID],
      put: op(
        'Set or remove the assignee',
        {
          requestBody: { required: true, ...json({ type: 'object', required: ['assignee'], properties: { assignee: { type: 'string', nullable: true } } }) },
          responses: alarmOk,
        },
        400,
        409,
      ),
    },
  },
  schemas: {
    AlarmRuleInput: {
      type: 'object',
      required: ['name', 'type', 'severity', 'source', 'condition'],
      properties: {
        owner: str,
        name: str,
        type: str,
        severity: { type: 'string', enum: [...SEVERITIES] },
        source: { type: 'object', description: "{kind:'telemetry', device, event?} | {kind:'stream', so, stream} | {kind:'metric', metric, labels?}" },
        value: { type: 'string', description: 'JSON path of the compared value' },
        condition: { type: 'object', description: '{op: > >= < <= == !=, threshold} | {op: between | outside, low, high}' },
        forMs: { type: 'integer' },
        mOfN: { type: 'object', properties: { m: { type: 'integer' }, n: { type: 'integer' } } },
        missing: {
          type: 'object',
          properties: { afterMs: { type: 'integer' }, policy: { type: 'string', enum: ['ignore', 'breaching', 'not-breaching', 'last'] } },
        },
        runtime: { type: 'string', description: 'cloud | gateway:<id>' },
        repeatMs: { type: 'integer' },
        command: { type: 'object', properties: { device: str, name: str, args: { type: 'object' } } },
      },
    },
    AlarmRule: { type: 'object', properties: { id: str, owner: str, name: str, type: str, runtime: str, jobId: str, createdMs: { type: 'integer' } } },
    Alarm: {
      type: 'object',
      properties: {
        id: str,
        owner: str,
        type: str,
        source: str,
        severity: { type: 'string', enum: [...SEVERITIES] },
        status: { type: 'string', enum: [...ALARM_STATUSES] },
        acknowledged: { type: 'boolean' },
        count: { type: 'integer' },
        assignee: str,
        rule: str,
        reason: str,
        firstMs: { type: 'integer' },
        lastMs: { type: 'integer' },
        history: { type: 'array', items: { type: 'object' } },
      },
    },
  },
};
