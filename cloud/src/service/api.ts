/**
 * @module The cloud service's HTTP API (api/server.ts) given the service's parts: which routes a cloud serves
 * follows from what it runs (docs/cloud.md "HTTP API").
 */
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/server.ts';
import { cloudDashboard } from '../dashboard/index.ts';
import type { SecretSealer } from '../functions/tokens/sealed-secret.ts';
import { publicBaseUrl } from './options.ts';
import type { CloudService } from './service.ts';

export function cloudApi(svc: CloudService, x: { readonly sealer: SecretSealer; readonly mqttConnected: () => boolean }): Promise<FastifyInstance> {
  return buildApi({
    identity: svc.identity,
    rates: svc.opts.httpRates,
    ingest: svc.ingest,
    devices: svc.devices,
    functions: svc.functions,
    schedules: svc.schedules,
    rules: svc.rules,
    compose: svc.compose,
    soMover: svc.soMover,
    soFlows: svc.soFlows,
    commands: svc.commands,
    registry: svc.registry,
    mqttConnected: x.mqttConnected,
    health: svc.ops,
    gatewayRequest: (...a) => svc.gatewayRequest(...a),
    publicUrl: publicBaseUrl(svc.opts),
    notify: {
      notifier: svc.notifier,
      identity: svc.identity,
      sealer: x.sealer,
      ownerExists: (o) => svc.functions.owners.publicKey(o) !== undefined,
    },
    alarms: { alarms: svc.alarms, identity: svc.identity, ownerExists: (o) => svc.functions.owners.publicKey(o) !== undefined },
    log: (m) => (svc.opts.log ?? console.log)(`http: ${m}`),
    extensions: svc.opts.dashboard === false ? [] : [cloudDashboard({ ingest: svc.ingest, devices: svc.devices, shared: svc.opts.redisUrl !== undefined })],
    ...(svc.opts.tls !== undefined && { https: { cert: svc.opts.tls.cert, key: svc.opts.tls.key } }),
  });
}
