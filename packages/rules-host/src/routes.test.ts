/** The rule REST API answers every error with the HTTP status its catalog gives the code. */
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { RULE_ERRORS } from '@ferry/rules';
import { API_ERRORS } from './errors.ts';
import { RulesHost } from './host.ts';
import { rulesRoutes } from './routes.ts';

async function api() {
  const host = new RulesHost({
    runtime: 'gateway:gw',
    publish: () => undefined,
    now: () => 0,
    transport: async () => {
      throw new Error('target refused the job: HTTP 400');
    },
  });
  const app = Fastify();
  rulesRoutes(app, host);
  await app.ready();
  const call = async (method: 'GET' | 'POST', url: string, payload?: object) => {
    const res = await app.inject({ method, url, ...(payload === undefined ? {} : { payload }) });
    return { status: res.statusCode, body: res.json() as Record<string, unknown> };
  };
  return { host, call };
}

const installation = {
  headers: { runtime: 'gateway:gw', targetResource: 'http://127.0.0.1:1', jobType: 'single-filter' },
  jobConfig: { connectors: { input: 'a/b', output: 'c/d' }, jobProps: { condition: 'gt', threshold: 1, fieldName: 'v' } },
};

describe('rule REST API errors', () => {
  it('answers rule errors with their catalog status and JSON (code, numeric, message, path)', async () => {
    const { call } = await api();
    const missing = await call('GET', '/api/jobs/none');
    expect(missing).toMatchObject({ status: RULE_ERRORS.FERRY_RULES_JOB_NOT_FOUND.status, body: { code: 'FERRY_RULES_JOB_NOT_FOUND', numeric: 3202 } });
    expect(missing.status).toBe(404);
    const bad = await call('POST', '/api/install', { ...installation, jobConfig: { ...installation.jobConfig, jobProps: {} } });
    expect(bad.status).toBe(400);
    expect(bad.status).toBe(RULE_ERRORS[bad.body['code'] as keyof typeof RULE_ERRORS].status);
    expect(bad.body).toHaveProperty('path');
    const installed = await call('POST', '/api/install', installation);
    expect(installed.status).toBe(201);
    const jobId = installed.body['jobId'];
    expect((await call('POST', '/api/start', { jobId })).status).toBe(200);
    const again = await call('POST', '/api/start', { jobId });
    expect(again).toMatchObject({ status: 409, body: { code: 'FERRY_RULES_INVALID_TRANSITION' } });
    expect(again.status).toBe(RULE_ERRORS.FERRY_RULES_INVALID_TRANSITION.status);
  });

  it('answers refused requests and failed hand-overs with the API catalog', async () => {
    const { call, host } = await api();
    const noId = await call('POST', '/api/stop', {});
    expect(noId).toEqual({
      status: API_ERRORS.FERRY_API_BAD_REQUEST.status,
      body: { code: 'FERRY_API_BAD_REQUEST', num: 7101, message: 'body must be {"jobId": "<id>"}', path: 'jobId' },
    });
    const badMove = await call('POST', '/api/move', { jobId: 'any' });
    expect(badMove).toMatchObject({ status: 400, body: { code: 'FERRY_API_BAD_REQUEST', num: 7101 } });
    expect(badMove.body).not.toHaveProperty('path');
    const { jobId } = host.engine.install(installation);
    host.engine.start(jobId);
    const failed = await call('POST', '/api/move', { jobId, target_runtime: 'cloud', targetResource: 'http://127.0.0.1:1' });
    expect(failed).toEqual({
      status: API_ERRORS.FERRY_API_MOVE_FAILED.status,
      body: { code: 'FERRY_API_MOVE_FAILED', num: 7102, message: 'target refused the job: HTTP 400' },
    });
    expect(failed.status).toBe(502);
    expect(host.engine.list().map((j) => j.jobStatus)).toEqual(['RUNNING']);
  });
});
