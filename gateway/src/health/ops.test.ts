/**
 * The gateway's operations on a real broker (aedes): /readyz follows the uplink away and back, reasons only
 * with the API token; a source that goes down and a failed edge rule job are restarted by the supervisor,
 * with incidents kept in health.db across a restart; the health history in its private file, served with the
 * token only; an event-loop stall recorded as an incident and a supervisor event, and its end.
 */
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SupervisorEvent } from '@ferry/base';
import { aedesBroker } from '@ferry/test-kit/brokers';
import { until } from '@ferry/test-kit/until';
import { parseConfig } from '../daemon/config.ts';
import { GatewayDaemon } from '../daemon/daemon.ts';
import type { Source, SourceHealth, SourceSink } from '../sources/types.ts';

const KEY = '5a'.repeat(32);
const TOKEN = 'gateway-api-token-0123456789abcdef-xyz';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A source that crashes on demand (reports itself down) and counts the starts the supervisor makes. */
class CrashingSource implements Source {
  readonly name = 'serial:/dev/ttyUSB0';
  sink: SourceSink | undefined;
  starts = 0;
  crashed = false;
  async start(sink: SourceSink): Promise<void> {
    this.starts++;
    this.crashed = false;
    this.sink = sink;
  }
  async stop(): Promise<void> {
    this.sink = undefined;
  }
  health(): SourceHealth {
    return { name: this.name, up: !this.crashed && this.sink !== undefined, lastInputMs: undefined, counters: {} };
  }
}

async function gateway(o: { dataDir?: string; token?: boolean; quietMs?: number } = {}) {
  const broker = await aedesBroker();
  cleanups.push(() => broker.stop());
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'ferry-gw-ops-'));
  if (o.token === true) writeFileSync(join(dataDir, 'api.token'), `${TOKEN}\n`, { mode: 0o600 });
  const cfg = parseConfig({
    gateway: { id: 'gw-9', key: KEY, data_dir: dataDir },
    uplink: { url: broker.url },
    api: { port: 0, ...(o.token === true && { token_file: join(dataDir, 'api.token') }) },
  });
  const src = new CrashingSource();
  const events: SupervisorEvent[] = [];
  const d = new GatewayDaemon(cfg, {
    sources: [src],
    log: () => undefined,
    checkPeriodMs: 50,
    notify: (e) => events.push(e),
    ...(o.quietMs !== undefined && { eventLoop: { quietMs: o.quietMs } }),
  });
  const api = await d.start();
  cleanups.push(() => d.stop());
  await until(() => d.uplink.connected, 'uplink');
  return { d, src, api, broker, dataDir, events };
}

const readyz = async (api: string, token?: string) => {
  const r = await fetch(`${api}/readyz?verbose`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  return { status: r.status, text: await r.text() };
};

describe('gateway operations', () => {
  it('answers /healthz; /readyz turns 503 while the broker is away and 200 when it is back; reasons only with the token', async () => {
    const { api, broker } = await gateway({ token: true });
    expect(await (await fetch(`${api}/healthz`)).text()).toBe('ok\n');
    expect((await readyz(api)).status).toBe(200);
    await broker.stop();
    await until(async () => (await readyz(api)).status === 503, 'readyz 503');
    expect((await readyz(api)).text).toContain('[-]broker failed: reason withheld');
    expect((await readyz(api, TOKEN)).text).toContain('[-]broker failed: the MQTT uplink is down');
    expect((await fetch(`${api}/api/health`)).status).toBe(401); // the summary needs the token
    await broker.start();
    await until(async () => (await readyz(api)).status === 200, 'readyz 200 again', 20_000);
  });

  it('restarts a source that went down and a failed edge rule job, and keeps the incidents across a restart', async () => {
    const { d, src, api, dataDir } = await gateway();
    src.crashed = true;
    await until(() => src.starts >= 2 && !src.crashed, 'the source restarted');
    const info = d.rules.engine.install({
      headers: { runtime: 'gateway:gw-9', targetResource: 'r', jobType: 'single-filter' },
      jobConfig: { connectors: { input: 'sensors/+', output: 'alerts' }, jobProps: { condition: 'gt', threshold: 1, fieldName: 'temp' } },
    });
    d.rules.engine.start(info.jobId);
    for (let i = 0; d.rules.engine.status(info.jobId).failure === null && i < 1000; i++) d.rules.input('sensors/a', { other: 1 }, Date.now());
    await until(() => d.ops.incidents.list().some((i) => i.component === `rule:${info.jobId}` && i.kind === 'recovered'), 'the rule job back');
    expect(d.rules.engine.status(info.jobId).jobInfo.jobStatus).toBe('RUNNING');
    const health = (await (await fetch(`${api}/api/health`)).json()) as { ready: boolean; incidents: { component: string; kind: string }[] };
    expect(health.incidents.filter((i) => i.component === 'source:serial:/dev/ttyUSB0').map((i) => i.kind)).toEqual(['recovered', 'restarted', 'failed']);
    await d.stop();
    cleanups.length = 1; // the broker stays
    const again = await gateway({ dataDir });
    expect(again.d.ops.incidents.list().map((i) => i.component)).toContain(`rule:${info.jobId}`);
  });

  it('escalates once when restarts keep failing', async () => {
    const { src, events } = await gateway();
    src.start = async () => {
      throw new Error('port gone');
    };
    src.crashed = true;
    await until(() => events.length > 0, 'an escalation', 20_000);
    expect(events[0]).toMatchObject({ kind: 'component.failing', source: 'source:serial:/dev/ttyUSB0', priority: 'high' });
  });

  it('records readiness, components and the event-loop delay in health-history.db (0600), served with the token only', async () => {
    const { d, api, dataDir } = await gateway({ token: true });
    const get = async (q: string, token: string | null = TOKEN) => {
      const r = await fetch(`${api}/api/v1/health/history${q}`, token === null ? {} : { headers: { authorization: `Bearer ${token}` } });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    const series = async () => (await get('')).body['series'] as string[];
    await until(async () => (await series()).includes('component.mqtt.up'), 'the first samples');
    expect(await series()).toEqual(expect.arrayContaining(['readyz', 'eventloop.delay_ms', 'component.mqtt.up', 'component.source:serial:/dev/ttyUSB0.up']));
    expect(statSync(join(dataDir, 'health-history.db')).mode & 0o777).toBe(0o600);
    const now = Date.now();
    const ready = await get(`?series=readyz&from=${now - 60_000}&to=${now + 1000}&points=61`);
    expect(ready.status).toBe(200);
    const points = ready.body['points'] as [number, number | null][];
    expect([ready.body['series'], ready.body['step'], points.length]).toEqual(['readyz', 1000, 61]);
    expect(points.some(([, v]) => v === 1)).toBe(true);
    expect(await get('?series=readyz&points=0')).toMatchObject({ status: 400, body: { code: 'FERRY_OPS_BAD_QUERY', path: 'points' } });
    expect(await get('?series=nothing.here')).toMatchObject({ status: 404, body: { code: 'FERRY_OPS_NO_SERIES' } });
    expect((await get('', null)).status).toBe(401);
    expect((await get('', 'wrong-token-0123456789abcdef-xyz')).status).toBe(401);
    // A restart reopens the same file: what was recorded before is answered again, point for point.
    const pinned = `?series=readyz&from=${now - 60_000}&to=${now}&points=60`;
    const before = (await get(pinned)).body;
    expect((before['points'] as [number, number | null][]).some(([, v]) => v !== null)).toBe(true);
    await d.stop();
    cleanups.length = 1; // the broker stays
    const again = await gateway({ dataDir, token: true });
    const after = await fetch(`${again.api}/api/v1/health/history${pinned}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(await after.json()).toEqual(before);
  });

  it('records an event-loop stall of 2 s or more as an incident and a supervisor event, and its end once the loop runs quietly', async () => {
    const { d, api, events } = await gateway({ quietMs: 500 });
    await until(
      async () => ((await (await fetch(`${api}/api/v1/health/history`)).json()) as { series: string[] }).series.includes('eventloop.delay_ms'),
      'sampling',
    );
    const t0 = Date.now();
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2500); // the whole thread blocks, as a stalled gateway does
    await until(() => events.some((e) => e.source === 'eventloop' && e.kind === 'component.recovered'), 'the stall over');
    const loop = events.filter((e) => e.source === 'eventloop');
    expect(loop.map((e) => [e.kind, e.priority])).toEqual([
      ['component.failing', 'high'],
      ['component.recovered', 'normal'],
    ]);
    expect(loop[0]!.data['delayMs']).toBeGreaterThanOrEqual(2000);
    const incidents = d.ops.incidents.list(20).filter((i) => i.component === 'eventloop');
    expect(incidents.map((i) => i.kind)).toEqual(['recovered', 'failed']);
    expect(incidents[1]!.message).toMatch(/stalled for \d{4,} ms/);
    // The stall is in the history too: the longest delay of its check period.
    const now = Date.now();
    const h = (await (await fetch(`${api}/api/v1/health/history?series=eventloop.delay_ms&from=${t0 - 1000}&to=${now + 1}&points=5000`)).json()) as {
      points: [number, number | null][];
    };
    expect(Math.max(...h.points.map(([, v]) => v ?? 0))).toBeGreaterThanOrEqual(2000);
  });
});
