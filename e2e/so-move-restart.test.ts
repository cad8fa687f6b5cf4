/**
 * A composite-stream object moved to a real gateway daemon outlives a restart of the cloud (cloud.db keeps
 * where it went, storage/sqlite/so-locations.ts): the restarted cloud lists it on the gateway with its streams
 * (GET /api/v1/sos) and moves it back (POST /api/v1/sos/{so}/move).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestCloud } from '../cloud/src/service/test-cloud.case.ts';
import { GatewayDaemon, parseConfig } from '@ferry/gateway';
import { ADMIN_TOKEN, bodyOf, call } from '@ferry/test-kit/http';
import { freePort } from '@ferry/test-kit/ports';
import { ScriptedSource } from '@ferry/test-kit/sources';
import { until } from '@ferry/test-kit/until';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Listed {
  readonly sos: { id: string; hosted: string; streams: { name: string }[] }[];
}

const DOC = {
  streams: {
    t: { channels: { a: { type: 'number' } } },
    d: { channels: { a: { 'current-value': '{$t.channels.a.current-value}*2', type: 'number' } } },
  },
};
const update = (v: number) => ({ channels: { a: { 'current-value': v } }, lastUpdate: v });

/** A cloud on `dataDir` with owner acme, its gateway gw-r (a real daemon) online; the cloud's API and the gateway. */
async function cloudAndGateway(dataDir: string, mqttPort: number): Promise<{ api: string; stop: () => Promise<void>; gateway: GatewayDaemon }> {
  const cloud = await startTestCloud({ dataDir, mqttPort });
  cleanups.push(cloud.stop);
  const api = cloud.httpUrl;
  bodyOf(await call(api, 'POST', '/api/owners', ADMIN_TOKEN, { id: 'acme' }), 'the owner');
  const { key } = bodyOf<{ key: string }>(await call(api, 'POST', '/api/gateways', ADMIN_TOKEN, { id: 'gw-r', owner: 'acme' }), 'the gateway');
  const cfg = parseConfig({
    gateway: { id: 'gw-r', key, data_dir: mkdtempSync(join(tmpdir(), 'ferry-so-restart-gw-')) },
    uplink: { url: cloud.mqttUrl },
    api: { port: 0 },
  });
  const gateway = new GatewayDaemon(cfg, { sources: [new ScriptedSource()], log: () => undefined });
  await gateway.start();
  cleanups.push(() => gateway.stop());
  await until(() => gateway.uplink.connected, 'the gateway uplink');
  return { api, stop: cloud.stop, gateway };
}

describe('a composite stream on a gateway across a restart of the cloud', () => {
  it('is listed there with its streams and moved back', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-so-restart-'));
    const mqttPort = await freePort();
    const first = await cloudAndGateway(dataDir, mqttPort);
    const { api, gateway } = first;
    const { id } = bodyOf<{ id: string }>(await call(api, 'POST', '/api/v1/sos?owner=acme', ADMIN_TOKEN, DOC), 'the object');
    bodyOf(await call(api, 'POST', `/api/v1/sos/${id}/move`, ADMIN_TOKEN, { to: 'gateway:gw-r' }), 'the move out');

    await first.stop();
    const second = await startTestCloud({ dataDir, mqttPort, httpPort: Number(new URL(api).port) });
    cleanups.push(second.stop);
    await until(() => gateway.uplink.connected, 'the gateway back on the restarted cloud');
    const listed = bodyOf<Listed>(await call(api, 'GET', '/api/v1/sos', ADMIN_TOKEN), 'the list');
    expect(listed.sos.map((s) => [s.id, s.hosted, s.streams.map((x) => x.name)])).toEqual([[id, 'gateway:gw-r', ['t', 'd']]]);
    await until(async () => (await call(api, 'POST', `/api/v1/sos/${id}/move`, ADMIN_TOKEN, { to: 'cloud' })).status === 200, 'the move back', 20_000);
    const back = bodyOf<Listed>(await call(api, 'GET', '/api/v1/sos', ADMIN_TOKEN), 'the list after');
    expect(back.sos.map((s) => [s.id, s.hosted])).toEqual([[id, 'cloud']]);
  }, 60_000);

  it('keeps its history across a round trip to the gateway, with the values computed there', async () => {
    const { api, gateway } = await cloudAndGateway(mkdtempSync(join(tmpdir(), 'ferry-so-history-')), await freePort());
    const { id } = bodyOf<{ id: string }>(await call(api, 'POST', '/api/v1/sos?owner=acme', ADMIN_TOKEN, DOC), 'the object');
    const put = async (v: number): Promise<void> => void bodyOf(await call(api, 'PUT', `/api/v1/sos/${id}/streams/t`, ADMIN_TOKEN, update(v)), `update ${v}`);
    for (const v of [1, 2]) await put(v);
    bodyOf(await call(api, 'POST', `/api/v1/sos/${id}/move`, ADMIN_TOKEN, { to: 'gateway:gw-r' }), 'the move out');
    for (const v of [3, 4]) await put(v); // computed on the gateway, sent up through its outbox
    await until(() => gateway.outbox.stats().rows === 0, "the gateway's outbox sent");
    bodyOf(await call(api, 'POST', `/api/v1/sos/${id}/move`, ADMIN_TOKEN, { to: 'cloud' }), 'the move back');
    await put(5);
    const history = async (): Promise<number[][]> =>
      bodyOf<{ data: { lastUpdate: number; channels: { a: number } }[] }>(
        await call(api, 'GET', `/api/v1/sos/${id}/streams/d?limit=100`, ADMIN_TOKEN),
        'the history',
      ).data.map((v) => [v.lastUpdate, v.channels.a]);
    await until(async () => (await history()).length >= 5, 'five values in the history');
    expect(await history()).toEqual([
      [1, 2],
      [2, 4],
      [3, 6],
      [4, 8],
      [5, 10],
    ]);
  }, 60_000);
});
