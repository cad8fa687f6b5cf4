/**
 * The health history on a running cloud (docs/operations.md, "Health history"): recorded every check period
 * into its own private file, read through GET /api/v1/health/history by a global viewer only.
 */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, call } from '@ferry/test-kit/http';
import { until } from '@ferry/test-kit/until';
import { CloudService } from '../service/service.ts';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

describe('GET /api/v1/health/history', () => {
  it('lists the series recorded and answers their means, to a global viewer only; bad queries are typed errors', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-history-api-'));
    const svc = new CloudService({
      adminToken: ADMIN_TOKEN,
      dataDir,
      mqttPort: 0,
      httpPort: 0,
      functionRunner: 'in-process',
      log: () => undefined,
      health: { checkPeriodMs: 50, probe: { periodMs: 100 } },
    });
    const { httpUrl: api } = await svc.start();
    stops.push(() => svc.stop());
    const viewer = ((await call(api, 'POST', '/api/tokens', ADMIN_TOKEN, { role: 'viewer' })).body as { token: string }).token;
    await until(async () => {
      const r = (await call(api, 'GET', '/api/v1/health/history', viewer)).body as { series: string[] };
      return ['readyz', 'eventloop.delay_ms', 'component.mqtt.up', 'probe.latency_ms'].every((s) => r.series.includes(s));
    }, 'readiness, the event loop, the MQTT component and the probe recorded');
    expect(statSync(join(dataDir, 'health-history.db')).mode & 0o777).toBe(0o600);

    const now = Date.now();
    const r = await call(api, 'GET', `/api/v1/health/history?series=readyz&from=${now - 60_000}&to=${now + 1000}&points=61`, viewer);
    expect(r.status).toBe(200);
    const body = r.body as { series: string; step: number; points: [number, number | null][] };
    expect(body.series).toBe('readyz');
    expect(body.step).toBe(1000);
    expect(body.points).toHaveLength(61);
    expect(body.points.at(-1)![0]).toBe(now - 60_000 + 60 * 1000);
    // The cloud is ready: the buckets with samples (the last seconds) are 1.
    const values = body.points.map((p) => p[1]).filter((v) => v !== null);
    expect(values.length).toBeGreaterThan(0);
    expect(values.every((v) => v === 1)).toBe(true);
    const probe = (await call(api, 'GET', '/api/v1/health/history?series=probe.latency_ms&points=1', viewer)).body as { points: [number, number | null][] };
    expect(probe.points[0]![1]).toBeGreaterThan(0);

    expect(await call(api, 'GET', '/api/v1/health/history?series=readyz&points=0', viewer)).toMatchObject({
      status: 400,
      body: { code: 'FERRY_OPS_BAD_QUERY', path: 'points' },
    });
    expect(await call(api, 'GET', '/api/v1/health/history?series=nothing.here', viewer)).toMatchObject({
      status: 404,
      body: { code: 'FERRY_OPS_NO_SERIES', path: 'series' },
    });
    const alice = (await call(api, 'POST', '/api/owners', ADMIN_TOKEN, { id: 'alice' })).body as { privateToken: string };
    expect((await call(api, 'GET', '/api/v1/health/history', alice.privateToken)).status).toBe(403);
    expect((await call(api, 'GET', '/api/v1/health/history', undefined)).status).toBe(401);
  });
});
