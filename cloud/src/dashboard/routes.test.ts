/**
 * The dashboard's data routes on a running cloud (embedded aedes, SQLite): an emulated board's telemetry as
 * a downsampled series and as live server-sent events, refused queries naming their parameter, another
 * owner's device answering 404, and the bound on live streams per owner.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmulatedBoard } from '@ferry/firmware';
import { decode } from '@ferry/message';
import { ADMIN_TOKEN, bearer, call, ownerWithTokens, readSse } from '@ferry/test-kit/http';
import { workerLogin } from '@ferry/test-kit/mqtt-login';
import { until } from '@ferry/test-kit/until';
import { MemoryTimeSeries } from '../ingest/index.ts';
import type { CloudService } from '../service/service.ts';
import { startTestCloud } from '../service/test-cloud.case.ts';
import { LIVE_PER_OWNER, readSeries } from './routes.ts';

let svc: CloudService;
let api: string;
let pub: MqttClient;
let board: EmulatedBoard;
let sent = 0;
let viewer: string;

async function send(n: number): Promise<void> {
  await board.run(n);
  for (const m of board.messages.slice(sent)) await pub.publishAsync('ferry/up/th-01/msg', m, { qos: 1 });
  sent = board.messages.length;
}

beforeAll(async () => {
  const urls = await startTestCloud({ name: 'dash' });
  svc = urls.svc;
  api = urls.httpUrl;
  const acme = await ownerWithTokens(api, 'acme', ['viewer']);
  const priv = acme.priv;
  viewer = acme.viewer;
  await call(api, 'POST', '/api/owners', ADMIN_TOKEN, { id: 'zenith' });
  await call(api, 'POST', '/api/devices', ADMIN_TOKEN, { id: 'zenith-1', owner: 'zenith' });
  const { key } = (await call(api, 'POST', '/api/devices', priv, { id: 'th-01', namespace: 'home' })).body as { key: string };
  pub = await mqtt.connectAsync(urls.mqttUrl, workerLogin(svc.mqttCredential));
  board = await EmulatedBoard.create({ key: Buffer.from(key, 'hex'), deviceId: 'th-01', seed: 5, startMs: Date.now() });
  await board.boot();
}, 60_000);
afterAll(async () => {
  await pub?.endAsync(true);
  await svc?.stop();
});

describe('dashboard data routes', () => {
  it("answers a board's telemetry as buckets of mean, min and max that account for every stored point", async () => {
    await send(40);
    const tels = board.messages.map((m) => decode(m)).filter((d) => d.ok && d.value.claims['ev'] === 'tel').length;
    const stored = async (): Promise<{ value: { t: number } }[]> =>
      (await call(api, 'GET', '/api/streams/th-01/tel', viewer)).body as { value: { t: number } }[];
    await until(async () => (await stored()).length === tels, 'every tel message stored');
    const r = await call(api, 'GET', `/api/v1/series?device=th-01&event=tel&points=7&to=${Date.now() + 1000}`, viewer);
    expect(r.status).toBe(200);
    const body = r.body as {
      points: number;
      truncated: boolean;
      fields: Record<string, { t: number[]; mean: number[]; min: number[]; max: number[]; count: number[] }>;
    };
    expect([body.points, body.truncated]).toEqual([tels, false]);
    const t = body.fields['t']!;
    expect(t.t.length).toBeLessThanOrEqual(7);
    expect(t.count.reduce((a, c) => a + c, 0)).toBe(tels);
    const temps = (await stored()).map((p) => p.value.t);
    expect(Math.min(...t.min)).toBe(Math.min(...temps));
    expect(Math.max(...t.max)).toBe(Math.max(...temps));
    const only = (await call(api, 'GET', '/api/v1/series?device=th-01&event=tel&field=sp', viewer)).body as { fields: Record<string, unknown> };
    expect(Object.keys(only.fields)).toEqual(['sp']);
    expect(((await call(api, 'GET', '/api/v1/series/events?device=th-01', viewer)).body as { events: string[] }).events).toContain('tel');
  });

  it('reads at most its bound of stored points, the newest of the range, and says older ones were left unread', async () => {
    const series = new MemoryTimeSeries();
    for (let sq = 0; sq < 10; sq++) series.append('d/tel', { ts: 100 + sq, kid: 'd', ep: 1, sq, value: { t: sq } });
    const capped = await readSeries(series, 'd/tel', 0, 1000, 4);
    expect([capped.points.map((p) => p.sq), capped.truncated]).toEqual([[6, 7, 8, 9], true]);
    const fits = await readSeries(series, 'd/tel', 0, 1000, 10);
    expect([fits.points.length, fits.truncated]).toEqual([10, false]);
  });

  it('streams the telemetry ingest releases, live', async () => {
    const points = await readSse<{ t: number; value: Record<string, number> }>(`${api}/api/v1/live?device=th-01&event=tel`, viewer, {
      event: 'point',
      want: 3,
      whileOpen: () => send(6),
    });
    expect(points.length).toBeGreaterThanOrEqual(3);
    for (const p of points) expect(typeof p.value['t']).toBe('number');
  });

  it('refuses malformed queries naming the parameter, and answers 404 for another owner’s device', async () => {
    for (const [q, path] of [
      ['event=tel', 'device'],
      ['device=th-01', 'event'],
      ['device=th-01&event=tel&points=0', 'points'],
      ['device=th-01&event=tel&points=5001', 'points'],
      ['device=th-01&event=tel&from=10&to=5', 'from'],
      ['device=th-01&event=tel&field=a.b.c%2F', 'field'],
      ['device=th-01&event=tel&to=-1', 'to'],
    ] as const) {
      const r = await call(api, 'GET', `/api/v1/series?${q}`, viewer);
      expect([q, r.status, (r.body as { code: string; path: string }).code, (r.body as { path: string }).path]).toEqual([q, 400, 'FERRY_DASH_BAD_QUERY', path]);
    }
    expect((await call(api, 'GET', '/api/v1/series?device=zenith-1&event=tel', viewer)).status).toBe(404);
    expect((await call(api, 'GET', '/api/v1/series?device=nobody&event=tel', viewer)).status).toBe(404);
    expect((await call(api, 'GET', '/api/v1/series?device=zenith-1&event=tel', ADMIN_TOKEN)).status).toBe(200);
  });

  it('bounds the live streams open per owner, and frees a slot when one closes', async () => {
    const aborts = Array.from({ length: LIVE_PER_OWNER }, () => new AbortController());
    const open = await Promise.all(aborts.map((a) => fetch(`${api}/api/v1/live?device=th-01`, { headers: bearer(viewer), signal: a.signal })));
    expect(open.map((r) => r.status)).toEqual(open.map(() => 200));
    const over = await call(api, 'GET', '/api/v1/live?device=th-01', viewer);
    expect([over.status, (over.body as { code: string }).code]).toEqual([429, 'FERRY_DASH_LIVE_QUOTA']);
    aborts[0]!.abort();
    await until(async () => {
      const a = new AbortController();
      const r = await fetch(`${api}/api/v1/live?device=th-01`, { headers: bearer(viewer), signal: a.signal });
      a.abort();
      return r.status === 200;
    }, 'a slot freed');
    for (const a of aborts) a.abort();
  });
});
