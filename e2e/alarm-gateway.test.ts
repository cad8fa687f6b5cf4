/**
 * An alarm rule made through the cloud's API for `runtime: gateway:<id>` (docs/operations.md "Alarms"): the
 * cloud installs the job on the owner's real gateway daemon over its control channel; a warm reading from a
 * sensor behind the gateway raises the alarm there; the signed transition comes to the cloud on
 * `<p>/up/<gw>/rule` and the cloud opens the owner's alarm, source `<gw>/<sensor>`; a cool reading clears it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestCloud } from '../cloud/src/service/test-cloud.case.ts';
import { GatewayDaemon, parseConfig } from '@ferry/gateway';
import { ADMIN_TOKEN, call } from '@ferry/test-kit/http';
import { ScriptedSource } from '@ferry/test-kit/sources';
import { until } from '@ferry/test-kit/until';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('an alarm rule on a gateway, made through the cloud', () => {
  it("installs on the owner's gateway; its raise and clear open and close the owner's alarm in the cloud", async () => {
    const { svc: cloud, mqttUrl, httpUrl: api, stop } = await startTestCloud({ name: 'alarm-gwc' });
    cleanups.push(stop);
    const priv = (await call(api, 'POST', '/api/owners', ADMIN_TOKEN, { id: 'alice' })).body as { privateToken: string };
    const op = ((await call(api, 'POST', '/api/tokens', priv.privateToken, { role: 'operator' })).body as { token: string }).token;
    const { key } = cloud.devices.add('gw-9', 'default', Date.now(), 'alice', { kind: 'gateway' });
    const source = new ScriptedSource();
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-alarm-gwd-'));
    const gateway = new GatewayDaemon(parseConfig({ gateway: { id: 'gw-9', key, data_dir: dataDir }, uplink: { url: mqttUrl }, api: { port: 0 } }), {
      sources: [source],
      log: () => undefined,
    });
    await gateway.start();
    cleanups.push(() => gateway.stop());
    await until(() => gateway.uplink.connected, 'the gateway online', 20_000);

    const made = await call(api, 'POST', '/api/v1/alarm-rules', op, {
      name: 'warm room',
      type: 'room.warm',
      severity: 'major',
      source: { kind: 'telemetry', device: 'gw-9', event: 'bthome' },
      value: 'temperature',
      condition: { op: '>', threshold: 8 },
      runtime: 'gateway:gw-9',
    });
    expect(made.status).toBe(201);
    const rule = made.body as { id: string; jobId: string };
    expect(gateway.rules.engine.status(rule.jobId).jobInfo.jobStatus).toBe('RUNNING');

    const list = async (): Promise<{ source: string; status: string; owner: string }[]> =>
      ((await call(api, 'GET', '/api/v1/alarms?type=room.warm', op)).body as { alarms: { source: string; status: string; owner: string }[] }).alarms;
    source.sink!.reading({ device: 'th-7', kind: 'bthome', atMs: Date.now(), values: { temperature: 9.5 } });
    await until(async () => (await list()).length === 1, 'the alarm in the cloud', 20_000);
    expect(await list()).toMatchObject([{ source: 'gw-9/th-7', status: 'active', owner: 'alice' }]);
    source.sink!.reading({ device: 'th-7', kind: 'bthome', atMs: Date.now() + 1, values: { temperature: 4 } });
    await until(async () => (await list())[0]?.status === 'cleared', 'the clear', 20_000);

    // The gateway restarts: its rules lived in its memory. Once it is back online the cloud installs the rule
    // again, and a warm reading raises a new alarm.
    await gateway.stop();
    const again = new GatewayDaemon(parseConfig({ gateway: { id: 'gw-9', key, data_dir: dataDir }, uplink: { url: mqttUrl }, api: { port: 0 } }), {
      sources: [source],
      log: () => undefined,
    });
    await again.start();
    cleanups.push(() => again.stop());
    await until(() => again.rules.engine.list().length === 1, 'the rule installed again on the restarted gateway', 20_000);
    const reinstalled = (await call(api, 'GET', `/api/v1/alarm-rules/${rule.id}`, op)).body as { jobId: string };
    expect(again.rules.engine.list().map((j) => j.jobId)).toEqual([reinstalled.jobId]);
    source.sink!.reading({ device: 'th-7', kind: 'bthome', atMs: Date.now() + 2, values: { temperature: 9.9 } });
    await until(async () => (await list()).some((a) => a.status === 'active'), 'a new alarm from the reinstalled rule', 20_000);
  }, 90_000);
});
