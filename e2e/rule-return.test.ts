/**
 * A rule job moved from the cloud to a real gateway daemon and back (cloud/src/api/rule-return.ts): the
 * gateway hands the job over with its half-filled window through a one-time ticket, so the window completes
 * in the cloud; asked again it moves nothing; an unknown gateway, a forged ticket and an owner are refused.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestCloud } from '../cloud/src/service/test-cloud.case.ts';
import { GatewayDaemon, parseConfig } from '@ferry/gateway';
import { ADMIN_TOKEN, call } from '@ferry/test-kit/http';
import { freePort } from '@ferry/test-kit/ports';
import { ScriptedSource } from '@ferry/test-kit/sources';
import { until } from '@ferry/test-kit/until';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function system(o: { httpPort?: number; publicUrl?: string } = {}) {
  const { svc: cloud, mqttUrl, httpUrl, stop } = await startTestCloud({ name: 'e2e-ret', ...o });
  cleanups.push(stop);
  const { key } = (await call(httpUrl, 'POST', '/api/gateways', ADMIN_TOKEN, { id: 'gw-r' })).body as { key: string };
  const cfg = parseConfig({
    gateway: { id: 'gw-r', key, data_dir: mkdtempSync(join(tmpdir(), 'ferry-e2e-ret-gw-')) },
    uplink: { url: mqttUrl },
    api: { port: 0 },
  });
  const source = new ScriptedSource();
  const gateway = new GatewayDaemon(cfg, { sources: [source], log: () => undefined });
  await gateway.start();
  cleanups.push(() => gateway.stop());
  await until(() => gateway.uplink.connected, 'the gateway uplink');
  return { cloud, api: httpUrl, gateway, source };
}

const sum = {
  headers: { runtime: 'cloud', targetResource: 'cloud', jobType: 'aggregation' },
  jobConfig: {
    connectors: { input: 'ferry/up/gw-r/bthome/+', output: 'ferry/agg/sum' },
    jobProps: { function: 'sum', fieldName: 'temperature', window: { type: 'tumbling', size: 3, unit: 'count' } },
  },
};

describe('a rule job moved to a gateway and back to the cloud', () => {
  it('comes back with its window state and keeps counting in the cloud', async () => {
    const { cloud, api, gateway, source } = await system();
    const { jobId } = (await call(api, 'POST', '/api/install', ADMIN_TOKEN, sum)).body as { jobId: string };
    await call(api, 'POST', '/api/start', ADMIN_TOKEN, { jobId });
    const read = (t: number) => source.sink!.reading({ device: 'A4:C1:38:00:00:01', kind: 'bthome', atMs: Date.now(), values: { temperature: t } });
    const mv = await call(api, 'POST', '/api/move', ADMIN_TOKEN, { jobId, target_runtime: 'gateway:gw-r', targetResource: 'gateway:gw-r' });
    expect(mv.status).toBe(200);
    read(20);
    await until(() => gateway.rules.engine.status(jobId).counters.in === 1, 'the job on the gateway to count one input');

    const back = await call(api, 'POST', '/api/v1/rules/return', ADMIN_TOKEN, { gateway: 'gw-r', jobId });
    expect([back.status, back.body]).toEqual([200, { jobId, from: 'gateway:gw-r', to: 'cloud', jobInfo: expect.objectContaining({ jobStatus: 'RUNNING' }) }]);
    expect(gateway.rules.engine.list()).toEqual([]);
    expect(cloud.rules.engine.status(jobId)).toMatchObject({ targetResource: 'cloud', counters: { in: 1 } });
    // The window the gateway half filled completes in the cloud: 20 + 21 + 22.
    read(21);
    read(22);
    await until(() => cloud.rules.engine.status(jobId).counters.out === 1, 'the window to close in the cloud');
    expect(cloud.rules.engine.status(jobId).counters.in).toBe(3);

    // Asked again, the job is no longer on the gateway: its refusal comes back, nothing moves.
    const again = await call(api, 'POST', '/api/v1/rules/return', ADMIN_TOKEN, { gateway: 'gw-r', jobId });
    expect(again.status).toBe(404);
    expect(cloud.rules.engine.status(jobId).jobInfo.jobStatus).toBe('RUNNING');
  });

  it('tells the gateway the configured public URL, not the address the request came to', async () => {
    // Nothing listens at the public URL: the gateway cannot hand the job over, so it keeps it.
    const { cloud, api, gateway } = await system({ publicUrl: `http://127.0.0.1:${await freePort()}` });
    const { jobId } = (await call(api, 'POST', '/api/install', ADMIN_TOKEN, sum)).body as { jobId: string };
    await call(api, 'POST', '/api/start', ADMIN_TOKEN, { jobId });
    await call(api, 'POST', '/api/move', ADMIN_TOKEN, { jobId, target_runtime: 'gateway:gw-r', targetResource: 'gateway:gw-r' });
    const back = await call(api, 'POST', '/api/v1/rules/return', ADMIN_TOKEN, { gateway: 'gw-r', jobId });
    expect(back.status).toBeGreaterThanOrEqual(400);
    expect(gateway.rules.engine.list().map((j) => j.jobId)).toEqual([jobId]);
    expect(cloud.rules.engine.list()).toEqual([]);
    // A public URL that leads to this cloud (a trailing slash is fine): the job comes back.
    const port = await freePort();
    const named = await system({ httpPort: port, publicUrl: `http://127.0.0.1:${port}/` });
    const j2 = (await call(named.api, 'POST', '/api/install', ADMIN_TOKEN, sum)).body as { jobId: string };
    await call(named.api, 'POST', '/api/move', ADMIN_TOKEN, { jobId: j2.jobId, target_runtime: 'gateway:gw-r', targetResource: 'gateway:gw-r' });
    const ok = await call(named.api, 'POST', '/api/v1/rules/return', ADMIN_TOKEN, { gateway: 'gw-r', jobId: j2.jobId });
    expect(ok.status).toBe(200);
    expect(named.cloud.rules.engine.status(j2.jobId).targetResource).toBe('cloud');
  });

  it('refuses an unknown gateway, a ticket that is not one, and an owner credential', async () => {
    const { api } = await system();
    const r = await call(api, 'POST', '/api/v1/rules/return', ADMIN_TOKEN, { gateway: 'nobody', jobId: 'j' });
    expect([r.status, (r.body as { code: string }).code]).toEqual([404, 'FERRY_DEVICE_NOT_FOUND']);
    const forged = await fetch(`${api}/api/rule-return/${'A'.repeat(43)}/api/move`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jobInfo: { jobId: 'j' } }),
    });
    expect([forged.status, ((await forged.json()) as { code: string }).code]).toEqual([404, 'FERRY_API_NOT_FOUND']);
    const priv = ((await call(api, 'POST', '/api/owners', ADMIN_TOKEN, { id: 'alice' })).body as { privateToken: string }).privateToken;
    const owner = await call(api, 'POST', '/api/v1/rules/return', priv, { gateway: 'gw-r', jobId: 'j' });
    expect(owner.status).toBe(403);
  });
});
