/**
 * @module The cloud's HTTP API (docs/cloud.md "HTTP API"): one Fastify app, one route file per area, and
 * one error handler (shared with the gateway daemon), so every error answers in Ferry's shape.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { answerErrors, rulesRoutes, type RulesHost } from '@ferry/rules-host';
import type { DeviceRegistry } from '../devices/registry.ts';
import type { FunctionService } from '../functions/index.ts';
import type { Scheduler } from '../functions/schedules/scheduler.ts';
import type { Ingest } from '../ingest/index.ts';
import { deviceRoutes } from './devices.ts';
import { functionRoutes } from './functions.ts';
import { gatewayRoutes, type GatewayRequest } from './gateways.ts';
import { healthRoutes } from './health.ts';
import { scheduleRoutes } from './schedules.ts';
import { sequenceRoutes } from './sequence.ts';
import { streamRoutes } from './streams.ts';

export interface ApiParts {
  readonly ingest: Ingest;
  readonly devices: DeviceRegistry;
  readonly functions: FunctionService;
  readonly schedules: Scheduler;
  readonly rules: RulesHost;
  readonly registry: Registry;
  readonly mqttConnected: () => boolean;
  readonly gatewayRequest: GatewayRequest;
  /** Where the errors no catalog names go (the reply says nothing of them). */
  readonly log?: (message: string) => void;
  /** Serve https with this certificate (PEM) instead of http. */
  readonly https?: { readonly cert: string; readonly key: string };
}

export function buildApi(p: ApiParts): FastifyInstance {
  const app = (
    p.https !== undefined
      ? Fastify({ logger: false, bodyLimit: 1024 * 1024, https: { cert: p.https.cert, key: p.https.key } })
      : Fastify({ logger: false, bodyLimit: 1024 * 1024 })
  ) as FastifyInstance;
  answerErrors(app, p.log);
  healthRoutes(app, p);
  deviceRoutes(app, p.devices, p.functions);
  streamRoutes(app, p.ingest.series);
  sequenceRoutes(app, p.ingest);
  rulesRoutes(app, p.rules);
  functionRoutes(app, p.functions);
  scheduleRoutes(app, p.schedules, p.functions);
  gatewayRoutes(app, p.gatewayRequest);
  return app;
}
