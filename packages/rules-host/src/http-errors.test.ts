/** The shared error handler on a bare fastify app: each kind of error answers in Ferry's shape. */
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { RuleError } from '@ferry/rules';
import { ApiError } from './errors.ts';
import { answerErrors } from './http-errors.ts';

function app(logs: string[] = []) {
  const a = Fastify({ logger: false, bodyLimit: 64 });
  answerErrors(a, (m) => logs.push(m));
  a.post('/echo', async (req) => req.body);
  a.post('/typed', { schema: { body: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } } } }, async (req) => req.body);
  a.get('/bug', async () => {
    throw new Error('secret detail at /srv/ferry/x.ts');
  });
  a.get('/rule', async () => {
    throw new RuleError('FERRY_RULES_JOB_NOT_FOUND', 'no job j1');
  });
  a.get('/api', async () => {
    throw new ApiError('FERRY_API_MOVE_FAILED', 'target refused');
  });
  return a;
}
const post = (url: string, payload: string, type = 'application/json') => ({ method: 'POST' as const, url, payload, headers: { 'content-type': type } });

describe('answerErrors', () => {
  it("fastify's refusals become FERRY_API_* codes with their status", async () => {
    const a = app();
    const cases = [
      [post('/echo', '{"id": '), 400, 'FERRY_API_BAD_REQUEST'],
      [post('/echo', ''), 400, 'FERRY_API_BAD_REQUEST'],
      [post('/typed', '{"n": "x"}'), 400, 'FERRY_API_BAD_REQUEST'],
      [post('/echo', JSON.stringify({ s: 'x'.repeat(100) })), 413, 'FERRY_API_TOO_LARGE'],
      [post('/echo', '<a/>', 'application/xml'), 415, 'FERRY_API_MEDIA_TYPE'],
      [{ method: 'GET' as const, url: '/nowhere?x=1' }, 404, 'FERRY_API_NOT_FOUND'],
    ] as const;
    for (const [req, status, code] of cases) {
      const r = await a.inject(req);
      expect([r.statusCode, r.json()], `${req.method} ${req.url}`).toEqual([status, { code, num: expect.any(Number), message: expect.any(String) }]);
    }
  });

  it('a catalog error thrown by a route answers with its status and its own JSON', async () => {
    const a = app();
    const rule = await a.inject({ method: 'GET', url: '/rule' });
    expect([rule.statusCode, rule.json()]).toEqual([404, { code: 'FERRY_RULES_JOB_NOT_FOUND', numeric: 3202, message: 'no job j1' }]);
    const api = await a.inject({ method: 'GET', url: '/api' });
    expect([api.statusCode, api.json()]).toEqual([502, { code: 'FERRY_API_MOVE_FAILED', num: 7102, message: 'target refused' }]);
  });

  it('anything else is a 500 FERRY_API_INTERNAL that tells the client nothing and the log everything', async () => {
    const logs: string[] = [];
    const r = await app(logs).inject({ method: 'GET', url: '/bug' });
    expect([r.statusCode, r.json()]).toEqual([500, { code: 'FERRY_API_INTERNAL', num: 7106, message: 'the server failed to answer this request' }]);
    expect(r.body).not.toMatch(/secret|\/srv|at /);
    expect(logs.join('\n')).toMatch(/secret detail at \/srv\/ferry\/x\.ts/);
  });
});
