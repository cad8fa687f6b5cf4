/**
 * Tenant isolation, proven: one matrix, owner A against owner B, over every surface, each attempt refused and
 * (where the surface allows it) the same action on A's own object allowed. Its rows: the HTTP rows
 * (e2e/isolation/http-rows.ts: devices, streams, sequences, gateways, API tokens, functions, token buckets,
 * namespaces, white-lists, schedules, rules, composite streams, notifications, health; stream
 * subscriptions and telemetry mappings; alarms: e2e/isolation/alarm-rows.ts) and the MQTT rows (cloud/src/mqtt-auth/acl-matrix.case.ts: logins,
 * client ids, subscriptions, uplink, calls, replies, retained state, gateways' boards, refused uplinks,
 * removed devices, service objects' stream topics, the alarms space). Both run against the embedded cloud (aedes + SQLite) and against Mosquitto with
 * its dynamic-security plugin (the cloud in scale-out mode keeping the plugin in step). Add a row whenever a
 * surface is added (docs/security.md, "Tenant isolation").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudService } from '@ferry/cloud';
import { startTestCloud, type TestCloudOptions } from '../cloud/src/service/test-cloud.case.ts';
import { mosquittoDynsecAvailable, startMosquittoDynsec } from '@ferry/test-kit/brokers';
import { workerLogin } from '@ferry/test-kit/mqtt-login';
import { SENSOR_SO } from '../cloud/src/compose/test-host.case.ts';
import { aclMatrix, type MatrixSystem, type SoMatrix } from '../cloud/src/mqtt-auth/acl-matrix.case.ts';
import { HTTP_ROWS, tenant, type Tenant } from './isolation/http-rows.ts';
import { SO_HTTP_ROWS } from './isolation/so-rows.ts';
import { DASH_HTTP_ROWS } from './isolation/dash-rows.ts';
import { DASH_LIST_ROWS } from './isolation/dash-list-rows.ts';
import { ALARM_HTTP_ROWS, seedAlarms } from './isolation/alarm-rows.ts';

const base = (): TestCloudOptions => ({
  name: 'isolation',
  functionRunner: 'in-process',
  notify: { allowPrivateAddresses: true }, // the rows register loopback callbacks (none is delivered)
});

type System = MatrixSystem & { readonly api: string };

/** Service objects for the stream-topic rows, on the cloud's own host. */
function soMatrix(cloud: CloudService): SoMatrix {
  const global = { global: true };
  const done = <T>(r: { ok: true; value: T } | { ok: false; error: Error }): T => {
    if (!r.ok) throw r.error;
    return r.value;
  };
  return {
    create: async (owner) => done(await cloud.compose.create(global, SENSOR_SO, owner)).id,
    latest: async (id) => done(await cloud.compose.latest(global, id, 's'))?.channels['v'] as number | undefined,
    grant: async (id, owner) => void done(await cloud.compose.grant(global, id, { stream: 's', to: { owner } })),
    revoke: async (id, owner) => void done(await cloud.compose.revoke(global, id, { stream: 's', to: { owner } })),
  };
}

async function embedded(): Promise<System> {
  const { svc: cloud, mqttUrl, httpUrl } = await startTestCloud(base());
  return {
    url: mqttUrl,
    api: httpUrl,
    cloud,
    worker: () => workerLogin(cloud.mqttCredential),
    settle: async () => undefined,
    so: soMatrix(cloud),
    stop: () => cloud.stop(),
  };
}

async function mosquitto(): Promise<System> {
  const broker = await startMosquittoDynsec();
  const worker = { username: 'ferry-worker-iso', password: 'isolation-matrix-worker-secret' };
  const { svc: cloud, httpUrl } = await startTestCloud({
    ...base(),
    mqttUrl: broker.url,
    mqttUsername: worker.username,
    mqttPassword: worker.password,
    mqttDynsec: broker.admin,
  });
  return {
    url: broker.url,
    api: httpUrl,
    cloud,
    worker: () => workerLogin(worker),
    settle: () => cloud.mqttSettled(),
    so: soMatrix(cloud),
    stop: async () => {
      await cloud.stop();
      await broker.stop();
    },
  };
}

function httpRows(name: string, start: () => Promise<System>): void {
  describe(`tenant isolation, HTTP rows: ${name}`, () => {
    let sys: System;
    let alice: Tenant;
    let bob: Tenant;
    beforeAll(async () => {
      sys = await start();
      alice = await tenant(sys.api, 'alice');
      bob = await tenant(sys.api, 'bob');
      await seedAlarms(sys.cloud, alice, bob);
    }, 60_000);
    afterAll(async () => {
      await sys?.stop();
    });
    for (const row of [...HTTP_ROWS, ...SO_HTTP_ROWS, ...DASH_HTTP_ROWS, ...DASH_LIST_ROWS, ...ALARM_HTTP_ROWS]) {
      it(`${row.surface}: ${row.attempt}`, async () => {
        expect(await row.refused(sys.api, alice, bob)).toBeUndefined();
        if (row.own !== undefined) expect(await row.own(sys.api, alice, bob)).toBeUndefined();
      }, 20_000);
    }
  });
}

httpRows('embedded cloud', embedded);
aclMatrix('embedded aedes', embedded, { uplinkVerdictRouting: true, soDevices: true });

if (mosquittoDynsecAvailable()) {
  httpRows('Mosquitto + dynamic-security', mosquitto);
  // Mosquitto delivers what it accepts; the cloud reads the uplink as one subscriber among the workers (only
  // workers may subscribe to it), so a refused uplink is dropped by each worker's ingest, not by the broker.
  aclMatrix('Mosquitto + dynamic-security', mosquitto, { uplinkVerdictRouting: false, soDevices: false });
} else if (process.env['CI'] === 'true') {
  it('Mosquitto with its dynamic-security plugin and mosquitto_ctrl are installed in CI', () => expect(mosquittoDynsecAvailable()).toBe(true));
} else it.skip('Mosquitto with its dynamic-security plugin is not installed', () => undefined);
