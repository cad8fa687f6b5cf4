/** The composite-stream REST routes on the embedded cloud (SQLite), plus the per-owner bounds and metrics. */
import { ADMIN_TOKEN } from '@ferry/test-kit/http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudService } from '../service/service.ts';
import { startTestCloud } from '../service/test-cloud.case.ts';
import { SSE_PER_OWNER } from './sos-events.ts';
import { call, cloudOptions, create, owner, soRouteSuite, su } from './sos.case.ts';

const base = cloudOptions;

let cloud: CloudService;
let api: string;
beforeAll(async () => {
  ({ svc: cloud, httpUrl: api } = await startTestCloud(base()));
}, 30_000);
afterAll(async () => {
  await cloud?.stop();
});

soRouteSuite('embedded', () => ({ a: api, b: api }));

describe('composite-stream bounds and metrics (embedded)', () => {
  it('rate-limits sensor updates per owner and bounds objects per owner', async () => {
    const c = await startTestCloud(base({ compose: { updatesPerSecond: 0.001, updateBurst: 3, objectsPerOwner: 2 } }));
    const { httpUrl } = c;
    try {
      const carol = await owner(httpUrl, 'carol');
      const so = await create(httpUrl, carol, { streams: { t: { channels: { a: { type: 'number' } } } } });
      await create(httpUrl, carol, { streams: {} });
      const third = await call(httpUrl, 'POST', '/api/v1/sos', carol, { streams: {} });
      expect(third).toMatchObject({ status: 429, body: { code: 'FERRY_COMPOSE_QUOTA' } });
      for (let i = 1; i <= 3; i++) expect((await call(httpUrl, 'PUT', `/api/v1/sos/${so}/streams/t`, carol, su(i, i))).status).toBe(200);
      const r = await call(httpUrl, 'PUT', `/api/v1/sos/${so}/streams/t`, carol, su(4, 4));
      expect(r).toMatchObject({ status: 429, body: { code: 'FERRY_COMPOSE_RATE_LIMITED' } });
      expect((await call(httpUrl, 'GET', `/api/v1/sos/${so}/streams/t/lastUpdate`, carol)).body).toMatchObject({ lastUpdate: 3 });
    } finally {
      await c.stop();
    }
  });

  it('bounds the open event streams per owner; closing one makes room', async () => {
    const dave = await owner(api, 'dave');
    const so = await create(api, dave, { streams: { t: { channels: { a: { type: 'number' } } } } });
    const url = `${api}/api/v1/sos/${so}/streams/t/events`;
    const aborts: AbortController[] = [];
    const open = async (): Promise<Response> => {
      const c = new AbortController();
      aborts.push(c);
      return fetch(url, { headers: { authorization: `Bearer ${dave}` }, signal: c.signal });
    };
    try {
      for (let i = 0; i < SSE_PER_OWNER; i++) expect((await open()).status).toBe(200);
      const over = await open();
      expect([over.status, ((await over.json()) as { code: string }).code]).toEqual([429, 'FERRY_COMPOSE_QUOTA']);
      aborts[0]!.abort();
      let again = 0;
      for (let i = 0; i < 100 && again !== 200; i++) {
        await new Promise((r) => setTimeout(r, 20));
        const r = await open();
        again = r.status;
        if (again !== 200) await r.text();
      }
      expect(again).toBe(200);
    } finally {
      for (const c of aborts) c.abort();
    }
  });

  it('counts per stream in /metrics, with a propagation latency histogram', async () => {
    const alice = await owner(api, 'alice-metrics');
    const so = await create(api, alice, {
      streams: {
        t: { channels: { a: { type: 'number' } } },
        d: { 'pre-filter': '{$t.channels.a.current-value} > 0', channels: { a: { type: 'number', 'current-value': '{$t.channels.a.current-value} * 2' } } },
      },
    });
    await call(api, 'PUT', `/api/v1/sos/${so}/streams/t`, alice, su(1, 1));
    await call(api, 'PUT', `/api/v1/sos/${so}/streams/t`, alice, su(1, 1));
    await call(api, 'PUT', `/api/v1/sos/${so}/streams/t`, alice, su(-1, 2));
    const m = await (await fetch(`${api}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
    expect(m).toContain(`ferry_compose_computed_total{so="${so}",stream="d"} 1`);
    expect(m).toContain(`ferry_compose_computed_total{so="${so}",stream="t"} 2`);
    expect(m).toContain(`ferry_compose_dropped_not_newer_total{so="${so}",stream="t"} 1`);
    expect(m).toContain(`ferry_compose_filtered_total{so="${so}",stream="d"} 1`);
    expect(m).toContain(`ferry_compose_propagation_seconds_count{so="${so}",stream="t"} 2`);
  });
});
