/**
 * @module The shared rule conformance cases (@ferry/rules/conformance) through RulesHost, the host the gateway
 * and the cloud both run: installed and started over the REST routes, fed with input() and tick(), outputs
 * taken from what the host publishes; and moved to a second host over the REST move route halfway through.
 */
import { outputsFor, RULE_CASES, type CaseStep } from '@ferry/rules/conformance';
import Fastify, { type FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { RulesHost } from './host.ts';
import { rulesRoutes } from './routes.ts';

type Host = { host: RulesHost; app: FastifyInstance; outputs: { topic: string; payload: unknown }[] };

function hostOn(runtime: string, peer?: () => Host): Host {
  const outputs: Host['outputs'] = [];
  const host = new RulesHost({
    runtime,
    now: () => 0,
    publish: (topic, payload) => outputs.push({ topic, payload }),
    transport: async (relocation) => {
      const target = peer?.();
      if (target === undefined) throw new Error('no peer');
      const res = await target.app.inject({ method: 'POST', url: '/api/move', payload: relocation });
      if (res.statusCode !== 201) throw new Error(`refused: ${res.body}`);
      return res.json();
    },
  });
  const app = Fastify();
  rulesRoutes(app, host);
  return { host, app, outputs };
}

function feed(host: RulesHost, steps: readonly CaseStep[]): void {
  for (const step of steps) {
    if ('tick' in step) host.tick(step.tick);
    else host.input(step.push.topic, step.push.record, step.push.timestampMs, step.push.inputId);
  }
}

async function post(app: FastifyInstance, url: string, payload: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await app.inject({ method: 'POST', url, payload: payload as Record<string, unknown> });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
}

describe('conformance cases through RulesHost', () => {
  for (const ruleCase of RULE_CASES) {
    it(ruleCase.name, async () => {
      const gw = hostOn('gateway:gw-1');
      const installed = await post(gw.app, '/api/install', {
        ...ruleCase.installation,
        headers: { ...ruleCase.installation.headers, runtime: 'gateway:gw-1' },
      });
      expect(installed.status).toBe(201);
      const jobId = String(installed.body['jobId']);
      expect((await post(gw.app, '/api/start', { jobId })).status).toBe(200);
      feed(gw.host, ruleCase.steps);
      expect(gw.outputs).toEqual(outputsFor(ruleCase, jobId));
    });

    it(`${ruleCase.name} (moved gateway -> cloud halfway over /api/move)`, async () => {
      const cloud = hostOn('cloud');
      const gw = hostOn('gateway:gw-1', () => cloud);
      const installed = await post(gw.app, '/api/install', {
        ...ruleCase.installation,
        headers: { ...ruleCase.installation.headers, runtime: 'gateway:gw-1' },
      });
      const jobId = String(installed.body['jobId']);
      await post(gw.app, '/api/start', { jobId });
      const half = Math.floor(ruleCase.steps.length / 2);
      feed(gw.host, ruleCase.steps.slice(0, half));
      const moved = await post(gw.app, '/api/move', { jobId, target_runtime: 'cloud', targetResource: 'cloud' });
      expect(moved.status).toBe(200);
      expect(cloud.host.engine.list().map((j) => [j.jobId, j.jobStatus])).toEqual([[jobId, 'RUNNING']]);
      feed(cloud.host, ruleCase.steps.slice(half));
      expect([...gw.outputs, ...cloud.outputs]).toEqual(outputsFor(ruleCase, jobId));
    });
  }
});
