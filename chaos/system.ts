/**
 * @module The running system the chaos suite and bench:chaos attack: an embedded cloud (aedes + SQLite) and a
 * gateway daemon on it, a registered device that makes the reference call, and an owner for function uploads.
 * The reference call is what a quiet system answers fast: one signed device message published with QoS 1 and
 * acknowledged (so ingested and stored), then one HTTP request.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { workerLogin } from '@ferry/test-kit/mqtt-login';
import { CloudService } from '@ferry/cloud';
import { generatePrivateToken } from '@ferry/cloud/functions';
import { GatewayDaemon, parseConfig } from '@ferry/gateway';
import { encode, type Json } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { ScriptedSource } from '@ferry/test-kit/sources';
import { ADMIN_TOKEN, bearer, getAs } from '@ferry/test-kit/http';

export interface System {
  readonly cloud: CloudService;
  readonly mqttUrl: string;
  readonly httpUrl: string;
  readonly gateway: GatewayDaemon;
  readonly gatewayId: string;
  readonly ownerToken: string;
  /** Registers a device and returns a signer for it. */
  device(id: string): (sq: number, d?: Json) => string;
  /** One reference call: a device message acknowledged, then GET /api/devices. Resolves to its latency (ms). */
  reference(): Promise<number>;
  /** Reference messages sent so far (each must end up stored once). */
  readonly referenceSent: () => number;
  stop(): Promise<void>;
}

export async function startSystem(opts: { deviceRate?: { perSecond: number; burst: number } } = {}): Promise<System> {
  const cloud = new CloudService({
    adminToken: ADMIN_TOKEN,
    dataDir: mkdtempSync(join(tmpdir(), 'ferry-chaos-cloud-')),
    mqttPort: 0,
    httpPort: 0,
    log: () => undefined,
    ...(opts.deviceRate !== undefined && { deviceRate: opts.deviceRate }),
  });
  const { mqttUrl, httpUrl } = await cloud.start();
  const device = (id: string) => {
    const key = hmacKey(Buffer.from(cloud.devices.add(id).key, 'hex'));
    return (sq: number, d: Json = { t: 21 }): string => {
      const t = encode({ header: { kid: id, ep: 1, sq }, claims: { iss: id, iat: 1_767_225_600 + sq, ev: 'tel', d } }, key);
      if (!t.ok) throw t.error;
      return t.value;
    };
  };
  const gatewayId = 'gw-chaos';
  const gwKey = cloud.devices.add(gatewayId, 'default', Date.now(), undefined, { kind: 'gateway' }).key;
  const gateway = new GatewayDaemon(
    parseConfig({
      gateway: { id: gatewayId, key: gwKey, data_dir: mkdtempSync(join(tmpdir(), 'ferry-chaos-gw-')) },
      uplink: { url: mqttUrl },
      api: { port: 0 },
    }),
    { sources: [new ScriptedSource()], log: () => undefined },
  );
  await gateway.start();
  const ownerToken = generatePrivateToken('chaos-owner');
  await fetch(`${httpUrl}/api/owners`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer() },
    body: JSON.stringify({ privateToken: ownerToken }),
  });
  const ref = device('ref');
  // The reference client publishes for the 'ref' device and reads back: a worker's login (its client id starts with the user name).
  const client: MqttClient = await mqtt.connectAsync(mqttUrl, workerLogin(cloud.mqttCredential));
  let sq = 0;
  return {
    cloud,
    mqttUrl,
    httpUrl,
    gateway,
    gatewayId,
    ownerToken,
    device,
    referenceSent: () => sq,
    async reference() {
      const t0 = performance.now();
      await client.publishAsync('ferry/up/ref/msg', ref(sq++), { qos: 1 });
      const r = await getAs(`${httpUrl}/api/devices`);
      if (r.status !== 200) throw new Error(`reference GET /api/devices answered ${r.status}`);
      await r.arrayBuffer();
      return performance.now() - t0;
    },
    async stop() {
      await client.endAsync(true).catch(() => undefined);
      await gateway.stop().catch(() => undefined);
      await cloud.stop();
    },
  };
}

/** p-th percentile (0..100) of `xs`. */
export const percentile = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
};
