/**
 * A gateway's backlog after an outage reaches the cloud whole: 10,000 readings buffered while the cloud was
 * down, then drained faster than the cloud's per-device rate. The cloud holds back acknowledgements past the
 * rate (never drops what it would acknowledge), so every reading is stored exactly once and the outbox empties.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CloudService } from '@ferry/cloud';
import { testCloudOptions } from '../cloud/src/service/test-cloud.case.ts';
import { GatewayDaemon, parseConfig } from '@ferry/gateway';
import { freePort } from '@ferry/test-kit/ports';
import { ScriptedSource } from '@ferry/test-kit/sources';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const until = async (cond: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('store-and-forward backlog against the per-device rate', () => {
  it('10,000 readings buffered during an outage are all stored once after it, though drained past the rate', async () => {
    const N = 10_000;
    const mqttPort = await freePort();
    // The cloud's limit is far below the gateway's unpaced drain: most of the backlog meets it.
    const cloudOpts = testCloudOptions({ name: 'e2e-cloud', mqttPort, deviceRate: { perSecond: 2500, burst: 250 } });
    const first = new CloudService(cloudOpts);
    await first.start();
    const { key } = first.devices.add('gw-backlog', 'default', Date.now(), undefined, { kind: 'gateway' });
    await first.stop(); // the outage

    const cfg = parseConfig({
      gateway: { id: 'gw-backlog', key, data_dir: mkdtempSync(join(tmpdir(), 'ferry-e2e-gw-')) },
      uplink: { url: `mqtt://127.0.0.1:${mqttPort}`, inflight: 64, max_rate: 0, buffer: { synchronous: 'NORMAL' } },
      api: { port: 0 },
    });
    const source = new ScriptedSource();
    const gateway = new GatewayDaemon(cfg, { sources: [source], log: () => undefined });
    await gateway.start();
    cleanups.push(() => gateway.stop());
    for (let i = 0; i < N; i++) source.sink!.reading({ device: 'room-1', kind: 'n', atMs: 1_767_225_600_000 + i, values: { i } });
    expect(gateway.outbox.stats().rows).toBe(N);

    const cloud = new CloudService(cloudOpts);
    await cloud.start();
    cleanups.push(() => cloud.stop());
    await until(() => gateway.outbox.stats().rows === 0, 'the outbox to drain');
    const c = cloud.ingest.counters();
    expect(c.rate_limited).toBeGreaterThan(0); // the drain did meet the limit
    // Held back in order per source: nothing overtook a held message, so nothing became a gap or arrived late.
    expect([c.accepted, c.gap, c.late, c.replay]).toEqual([N, 0, 0, 0]);
    const points = await cloud.ingest.series.query('gw-backlog/reading', 0, Number.MAX_SAFE_INTEGER);
    expect(points.length).toBe(N);
    expect(new Set(points.map((p) => p.sq)).size).toBe(N);
  }, 120_000);
});
