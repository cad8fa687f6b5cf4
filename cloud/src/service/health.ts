/**
 * @module How the service feeds its operations part (docs/operations.md): gateways' retained status (online,
 * or "offline" as their last will) into device liveness, the MQTT link as a supervised component, and the
 * latency probe's device, connection and subscriber.
 */
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import mqtt from 'mqtt';
import type { DeviceRegistry } from '../devices/registry.ts';
import type { CloudOps, OpsParts } from '../health/ops.ts';
import { LatencyProbe } from '../health/probe.ts';
import type { RulesHost } from '@ferry/rules-host';
import type { Intake } from './intake.ts';
import type { CloudOptions, TlsOptions } from './options.ts';

/**
 * The options of the operations part: the check period, liveness, the event-loop thresholds, and where the
 * health history lives: `<data>/health-history.db`, or one file per worker id when workers share a data
 * directory (scale-out), so each keeps its own readiness and components.
 */
export function opsOptions(o: CloudOptions): Pick<OpsParts, 'checkPeriodMs' | 'liveness' | 'historyPath' | 'history' | 'eventLoop'> {
  const h = o.health;
  const file = o.clientId === undefined ? 'health-history.db' : `health-history-${o.clientId.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64)}.db`;
  return {
    liveness: h?.liveness,
    ...(h?.checkPeriodMs !== undefined && { checkPeriodMs: h.checkPeriodMs }),
    ...(h?.history !== false && { historyPath: join(o.dataDir, file), history: h?.history }),
    eventLoop: h?.eventLoop,
  };
}

/**
 * Gateways' `<prefix>/gw/<id>/status` into liveness (works with any broker), and `online` told to `online`
 * (the alarms reinstall what a restarted gateway lost); the cloud's MQTT link supervised.
 */
export function watchLiveness(ops: CloudOps, intake: Intake, prefix: string, online?: (gateway: string) => void): void {
  intake.table.add({
    filter: `${prefix}/gw/+/status`,
    ack: false,
    subscribe: true,
    handle: (topic, payload) => {
      const id = topic.split('/').at(-2)!;
      const status = payload.toString();
      if (status === 'online') {
        ops.liveness.connected(id);
        online?.(id);
      } else if (status === 'offline') ops.liveness.disconnected(id, false);
    },
  });
  ops.supervise({
    name: 'mqtt',
    check: () => (intake.client === undefined || intake.client.connected ? undefined : 'the MQTT link to the broker is down'),
    // mqtt.js reconnects by itself every second (forcing it would cut a connection being made): the
    // supervisor records the outage and escalates when it lasts.
    restart: () => undefined,
  });
}

export interface ProbeSettings {
  readonly periodMs: number;
  readonly id?: string;
}

/** The probe and its subscriber route (before the intake starts, which subscribes every route). */
export function makeProbe(ops: CloudOps, intake: Intake, o: ProbeSettings & { prefix: string; rules: RulesHost; log: (m: string) => void }): void {
  if (!(o.periodMs >= 100)) throw new RangeError(`health.probe.periodMs must be at least 100, not ${o.periodMs}`);
  const probe = new LatencyProbe({
    id: o.id ?? 'ferry-probe',
    prefix: o.prefix,
    periodMs: o.periodMs,
    rules: o.rules,
    histogram: ops.metrics.probe,
    onSample: (ms) => ops.probeSample(ms),
    log: o.log,
  });
  ops.probe = probe;
  intake.table.add(probe.route());
}

/**
 * Registers the probe device if it is not (no owner, namespace `ferry-probe`), connects as it with its own
 * MQTT password, and starts sending. Its epoch is the downlink signer's, which grows at every start.
 */
export async function startProbe(
  ops: CloudOps,
  o: { devices: DeviceRegistry; mqttUrl: string; epoch: number; tls: TlsOptions | undefined; mqttCa: string | undefined },
): Promise<void> {
  const probe = ops.probe;
  if (probe === undefined) return;
  const id = probe.summary().id;
  if (o.devices.info(id) === undefined) o.devices.add(id, 'ferry-probe');
  const key = o.devices.keys(id);
  const password = o.devices.mqttPasswordOf(id);
  if (key === undefined || password === undefined) throw new Error(`the probe device ${id} has no key`);
  // The same trust as the cloud's own connection (intake.ts): its own certificate, or the CA given.
  const ca = o.tls !== undefined ? (o.tls.ca ?? [...rootCertificates, o.tls.cert].join('\n')) : o.mqttCa;
  const client = await mqtt.connectAsync(o.mqttUrl, {
    clientId: id,
    username: id,
    password,
    reconnectPeriod: 1000,
    ...(ca !== undefined && { ca, rejectUnauthorized: true }),
    ...(o.tls !== undefined && { checkServerIdentity: () => undefined }),
  });
  probe.start(client, key, o.epoch);
}
