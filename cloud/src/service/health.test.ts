/**
 * Operations end to end on real parts (docs/operations.md): /healthz and /readyz, readiness following an
 * external broker (aedes) away and back, a failed rule job restarted by the supervisor with its incidents, a
 * silent board going offline, the latency probe through MQTT, ingest, a rule and a subscriber.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { encode } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { aedesBroker } from '@ferry/test-kit/brokers';
import { until } from '@ferry/test-kit/until';
import { freePort, waitForPort } from '@ferry/test-kit/ports';
import { ADMIN_TOKEN, getAs, postAs } from '@ferry/test-kit/http';
import { workerLogin } from '@ferry/test-kit/mqtt-login';
import type { OpsEvent } from '../health/events.ts';
import type { CloudOptions } from './service.ts';
import { startTestCloud } from './test-cloud.case.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function cloud(extra: Partial<CloudOptions> = {}) {
  const events: OpsEvent[] = [];
  const c = await startTestCloud({
    name: 'ops',
    functionRunner: 'in-process',
    ...extra,
    health: { checkPeriodMs: 50, notify: (e) => events.push(e), ...extra.health },
  });
  cleanups.push(c.stop);
  return { ...c, events };
}

const readyz = async (httpUrl: string, token?: string): Promise<{ status: number; text: string }> => {
  const r = token === undefined ? await fetch(`${httpUrl}/readyz?verbose`) : await getAs(`${httpUrl}/readyz?verbose`, token);
  return { status: r.status, text: await r.text() };
};

describe('health probes and operations (embedded)', () => {
  it('answers /healthz and /readyz in Kubernetes form, withholding reasons and component names from anonymous callers', async () => {
    const { svc, httpUrl } = await cloud();
    const alive = await fetch(`${httpUrl}/healthz`);
    expect([alive.status, await alive.text()]).toEqual([200, 'ok\n']);
    expect(await (await fetch(`${httpUrl}/readyz`)).text()).toBe('ok\n');
    const anon = await readyz(httpUrl);
    expect(anon.status).toBe(200);
    expect(anon.text).toContain('[+]broker ok');
    expect(anon.text).toContain('[+]store ok');
    expect(anon.text).toContain('[+]components ok');
    expect(anon.text).not.toContain('component:');
    expect(anon.text.trimEnd().split('\n').at(-1)).toBe('readyz check passed');
    // A failed rule job: anonymous callers learn only that components fail; a global viewer which and why.
    svc.rules.engine.install({
      headers: { runtime: 'cloud', targetResource: 'r', jobType: 'single-filter' },
      jobConfig: { connectors: { input: 'sensors/+', output: 'alerts' }, jobProps: { condition: 'gt', threshold: 1, fieldName: 'temp' } },
    });
    await svc.ops.stop(); // hold the supervisor, so the failure stays visible
    const jobId = svc.rules.engine.list()[0]!.jobId;
    svc.rules.engine.start(jobId);
    for (let i = 0; svc.rules.engine.status(jobId).failure === null && i < 1000; i++) svc.rules.input('sensors/a', { other: 1 }, Date.now());
    const failing = await readyz(httpUrl); // checked live: no sweep needed to see it
    expect(failing.status).toBe(503);
    expect(failing.text).toContain('[-]components failed: reason withheld');
    expect(failing.text).not.toContain(jobId);
    const admin = await readyz(httpUrl, ADMIN_TOKEN);
    expect(admin.text).toContain(`[-]component:rule:${jobId} failed: FERRY_RULES_JOB_FAILED`);
  });

  it('restarts a failed rule job with back-off and records the incident, persisted across a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-ops-'));
    const { svc, httpUrl } = await cloud({ dataDir });
    const info = svc.rules.engine.install({
      headers: { runtime: 'cloud', targetResource: 'r', jobType: 'single-filter' },
      jobConfig: { connectors: { input: 'sensors/+', output: 'alerts' }, jobProps: { condition: 'gt', threshold: 1, fieldName: 'temp' } },
    });
    svc.rules.engine.start(info.jobId);
    for (let i = 0; svc.rules.engine.status(info.jobId).failure === null && i < 1000; i++) svc.rules.input('sensors/a', { other: 1 }, Date.now());
    expect(svc.rules.engine.status(info.jobId).jobInfo.jobStatus).toBe('STOPPED');
    await until(async () => {
      const r = await getAs(`${httpUrl}/api/v1/health/incidents`);
      return ((await r.json()) as { kind: string }[]).some((i) => i.kind === 'recovered');
    }, 'the job restarted and seen healthy');
    expect(svc.rules.engine.status(info.jobId)).toMatchObject({ jobInfo: { jobStatus: 'RUNNING' }, failure: null });
    const incidents = (await (await getAs(`${httpUrl}/api/v1/health/incidents`)).json()) as { component: string; kind: string }[];
    expect(incidents.filter((i) => i.component === `rule:${info.jobId}`).map((i) => i.kind)).toEqual(['recovered', 'restarted', 'failed']);
    // The viewer of an owner may not read the global incident list.
    const owner = (await (await postAs(`${httpUrl}/api/owners`, { id: 'alice' })).json()) as { privateToken: string };
    expect((await getAs(`${httpUrl}/api/v1/health/incidents`, owner.privateToken)).status).toBe(403);
    expect((await getAs(`${httpUrl}/api/v1/health/incidents?limit=0`)).status).toBe(400);
    await svc.stop();
    cleanups.length = 0;
    const again = await cloud({ dataDir });
    expect(again.svc.ops.incidents.list().map((i) => i.kind)).toEqual(['recovered', 'restarted', 'failed']);
  });

  it('learns a board’s interval, reports it offline once silent, and shows it to its owner only', async () => {
    const { svc, httpUrl, mqttUrl, events } = await cloud({ health: { liveness: { minIntervalMs: 50, silenceFactor: 3 } } });
    const alice = (await (await postAs(`${httpUrl}/api/owners`, { id: 'alice' })).json()) as { privateToken: string };
    const viewer = (await (await postAs(`${httpUrl}/api/tokens`, { role: 'viewer' }, alice.privateToken)).json()) as { token: string };
    const dev = (await (await postAs(`${httpUrl}/api/devices`, { id: 'th-1', namespace: 'home' }, alice.privateToken)).json()) as {
      key: string;
    };
    // Forwarded by a connection that is not the board's (as a gateway forwards its boards' messages): the
    // board is judged by its silence alone.
    const board = await mqtt.connectAsync(mqttUrl, workerLogin(svc.mqttCredential));
    const key = hmacKey(Buffer.from(dev.key, 'hex'));
    for (let sq = 0; sq < 6; sq++) {
      const t = encode({ header: { kid: 'th-1', ep: 1, sq }, claims: { iss: 'th-1', iat: Math.floor(Date.now() / 1000), ev: 'tel', d: { t: 20 } } }, key);
      if (!t.ok) throw t.error;
      await board.publishAsync('ferry/up/th-1/msg', t.value, { qos: 1 });
      await new Promise((r) => setTimeout(r, 60));
    }
    await until(() => events.some((e) => e.kind === 'device.offline' && e.source === 'th-1'), 'th-1 offline');
    expect(events.find((e) => e.source === 'th-1')).toMatchObject({ owner: 'alice', data: { why: 'silent' } });
    await board.endAsync();
    const mine = (await (await getAs(`${httpUrl}/api/v1/health/devices`, viewer.token)).json()) as { id: string; online: boolean; messages: number }[];
    expect(mine).toEqual([expect.objectContaining({ id: 'th-1', online: false, messages: 6, owner: 'alice' })]);
    // Another owner's viewer sees nothing of it.
    const bob = (await (await postAs(`${httpUrl}/api/owners`, { id: 'bob' })).json()) as { privateToken: string };
    expect(await (await getAs(`${httpUrl}/api/v1/health/devices`, bob.privateToken)).json()).toEqual([]);
    expect(svc.ops.liveness.counts().offline).toBe(1);
  });

  it('counts a board’s sequence gaps and bad signatures from ingest', async () => {
    const { svc, mqttUrl } = await cloud();
    const { key } = svc.devices.add('th-2', 'home');
    const pub = await mqtt.connectAsync(mqttUrl, workerLogin(svc.mqttCredential));
    const sign = (sq: number, k = hmacKey(Buffer.from(key, 'hex'))): string => {
      const t = encode({ header: { kid: 'th-2', ep: 1, sq }, claims: { iss: 'th-2', iat: Math.floor(Date.now() / 1000), ev: 'tel', d: { t: 20 } } }, k);
      if (!t.ok) throw t.error;
      return t.value;
    };
    await pub.publishAsync('ferry/up/th-2/msg', sign(0), { qos: 1 });
    await pub.publishAsync('ferry/up/th-2/msg', sign(2), { qos: 1 }); // sq 1 never comes: a gap after the re-order timeout
    await pub.publishAsync('ferry/up/th-2/msg', sign(3, hmacKey(new Uint8Array(32).fill(9))), { qos: 1 }); // not its key
    await until(() => {
      const d = svc.ops.devices().find((x) => x.id === 'th-2');
      return d !== undefined && d.gaps === 1 && d.badSignatures === 1 && d.messages === 2;
    }, 'one gap, one bad signature, two messages');
    await pub.endAsync();
  });

  it('records the probe’s end-to-end latency through MQTT, ingest, a rule and a subscriber', async () => {
    const { httpUrl } = await cloud({ health: { probe: { periodMs: 100 } } });
    await until(async () => {
      const p = (await (await getAs(`${httpUrl}/api/v1/health/probe`)).json()) as { received: number };
      return p.received >= 3;
    }, 'three probe messages back');
    const p = (await (await getAs(`${httpUrl}/api/v1/health/probe`)).json()) as { enabled: boolean; p50Ms: number; sent: number };
    expect(p.enabled).toBe(true);
    expect(p.p50Ms).toBeGreaterThan(0);
    const metrics = await (await getAs(`${httpUrl}/metrics`)).text();
    expect(Number(/ferry_cloud_probe_latency_seconds_count (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(3);
    expect(metrics).toMatch(/ferry_cloud_ingest_seconds_count\{status="accepted"\} [1-9]/);
    expect(metrics).toMatch(/ferry_cloud_rule_evaluation_seconds_count [1-9]/);
    expect(metrics).toContain('# TYPE ferry_cloud_command_round_trip_seconds histogram');
    const summary = (await (await getAs(`${httpUrl}/api/v1/health`)).json()) as { ready: boolean; probe: { received: number } };
    expect(summary.ready).toBe(true);
  });
});

describe('readiness with an external broker', () => {
  it('turns 503 when the broker goes away and 200 when it returns', async () => {
    const broker = await aedesBroker();
    cleanups.push(() => broker.stop());
    const { httpUrl, events } = await cloud({ mqttUrl: broker.url, health: { checkPeriodMs: 50 } });
    expect((await readyz(httpUrl)).status).toBe(200);
    await broker.stop();
    await until(async () => (await readyz(httpUrl)).status === 503, 'readyz 503');
    expect((await readyz(httpUrl)).text).toContain('[-]broker failed: reason withheld');
    await broker.start();
    await until(async () => (await readyz(httpUrl)).status === 200, 'readyz 200 again', 20_000);
    expect(events.filter((e) => e.kind.startsWith('component.')).map((e) => e.source)).not.toContain('store');
  });
});

const redisServer = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();

describe('readiness with the Redis store (scale-out)', () => {
  it.skipIf(redisServer === '' && process.env['CI'] !== 'true')('turns 503 while Redis does not answer and 200 when it answers again', async () => {
    const port = await freePort();
    const redis = spawn(redisServer || 'redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'], {
      stdio: 'ignore',
    });
    cleanups.push(async () => {
      redis.kill('SIGCONT');
      redis.kill('SIGKILL');
    });
    await waitForPort(port);
    const { httpUrl } = await cloud({ redisUrl: `redis://127.0.0.1:${port}` });
    expect((await readyz(httpUrl)).status).toBe(200);
    redis.kill('SIGSTOP'); // a hung Redis: connected, never answering
    await until(async () => (await readyz(httpUrl)).status === 503, 'readyz 503');
    expect((await readyz(httpUrl, ADMIN_TOKEN)).text).toMatch(/\[-\]store failed: no answer within 2000 ms/);
    redis.kill('SIGCONT');
    await until(async () => (await readyz(httpUrl)).status === 200, 'readyz 200 again');
  });
});
