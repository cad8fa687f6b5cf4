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
import type { Identity } from '../identity/identity.ts';
import { authenticate, type HttpRates } from './auth.ts';
import { broadcastRoutes } from './broadcasts.ts';
import { commandRoutes } from './commands.ts';
import type { Broadcasts } from '../commands/broadcast.ts';
import type { CommandService } from '../commands/service.ts';
import type { DeviceTags } from '../commands/tags.ts';
import { deviceRoutes } from './devices.ts';
import { identityRoutes } from './identity.ts';
import { functionRoutes } from './functions.ts';
import { gatewayRoutes, type GatewayRequest } from './gateways.ts';
import { healthRoutes } from './health.ts';
import { healthV1Routes, type HealthSource } from './health-v1.ts';
import { HEALTH_OPENAPI } from './health-openapi.ts';
import { COMMANDS_OPENAPI } from './commands-openapi.ts';
import { NOTIFY_OPENAPI } from './notify-openapi.ts';
import { ALARMS_OPENAPI } from './alarms-openapi.ts';
import { alarmRoutes, type AlarmApiParts } from './alarms.ts';
import { openApiDocument, openApiRoute, type OpenApiFragment } from './openapi.ts';
import { SO_MOVE_OPENAPI } from './so-move-openapi.ts';
import { SOS_OPENAPI } from './sos-openapi.ts';
import { SO_SUBSCRIPTIONS_OPENAPI } from './so-subscriptions-openapi.ts';
import { notifyRoutes, type NotifyApiParts } from './notify.ts';
import { scheduleRoutes } from './schedules.ts';
import { sequenceRoutes } from './sequence.ts';
import { soMoveRoutes } from './so-move.ts';
import type { SoMover } from '../compose/move.ts';
import type { ComposeHost } from '../compose/host.ts';
import { soRoutes } from './sos.ts';
import { soSubscriptionRoutes } from './so-subscriptions.ts';
import type { Flows } from '../compose/flows.ts';
import { streamRoutes } from './streams.ts';
import { commandListRoutes } from './command-lists.ts';
import { functionListRoutes } from './function-list.ts';
import { soListRoutes } from './so-list.ts';
import { ruleReturnRoutes } from './rule-return.ts';
import { COMMAND_LISTS_OPENAPI, FUNCTION_LIST_OPENAPI, RULE_RETURN_OPENAPI, SO_LIST_OPENAPI } from './lists-openapi.ts';

export interface ApiParts {
  readonly ingest: Ingest;
  readonly devices: DeviceRegistry;
  readonly functions: FunctionService;
  readonly schedules: Scheduler;
  readonly rules: RulesHost;
  /** Composite streams (service objects): /api/v1/sos. */
  readonly compose?: ComposeHost | undefined;
  /** Service objects' callback subscriptions and telemetry mappings (compose/flows.ts), when the cloud hosts them. */
  readonly soFlows?: Pick<Flows, 'callbacks' | 'telemetry'> | undefined;
  readonly registry: Registry;
  readonly mqttConnected: () => boolean;
  readonly gatewayRequest: GatewayRequest;
  /** Where gateways reach this API (CloudOptions.publicUrl, checked); else the address of each request. */
  readonly publicUrl?: string | undefined;
  readonly identity: Identity;
  /** The notification routes (docs/notifications.md). */
  readonly notify?: NotifyApiParts | undefined;
  readonly alarms?: AlarmApiParts | undefined;
  /** Commands to devices, broadcasts and device tags (docs/actions.md). */
  readonly commands?: { readonly service: CommandService; readonly broadcasts: Broadcasts; readonly tags: DeviceTags } | undefined;
  /** Requests per second per credential (auth.ts HTTP_RATES by default). */
  readonly rates?: HttpRates | undefined;
  /** Where the errors no catalog names go (the reply says nothing of them). */
  readonly log?: (message: string) => void;
  /** /healthz, /readyz and the health API (health-v1.ts); without it only /health. */
  readonly health?: HealthSource;
  /** Serve https with this certificate (PEM) instead of http. */
  readonly https?: { readonly cert: string; readonly key: string };
  /** Moves of composite streams between the cloud and gateways, once a host runs them. */
  readonly soMover?: SoMover | undefined;
  /** Parts that add their own routes (the web dashboard, cloud/src/dashboard), registered after every other route. */
  readonly extensions?: readonly ApiExtension[] | undefined;
}

/** Routes an area adds to the API, with their OpenAPI description. */
export interface ApiExtension {
  readonly openApi?: OpenApiFragment;
  register(app: FastifyInstance): void | Promise<void>;
}

/**
 * Every route is behind the one authentication hook (auth.ts); each declares the access it needs, and the
 * rule routes (shared with the gateway daemon, which declares nothing) are the cloud admin's.
 */
export async function buildApi(p: ApiParts): Promise<FastifyInstance> {
  const app = (
    p.https !== undefined
      ? Fastify({ logger: false, bodyLimit: 1024 * 1024, https: { cert: p.https.cert, key: p.https.key } })
      : Fastify({ logger: false, bodyLimit: 1024 * 1024 })
  ) as FastifyInstance;
  answerErrors(app, p.log);
  await authenticate(app, p.identity, p.rates);
  healthRoutes(app, p);
  if (p.health !== undefined) healthV1Routes(app, p.health);
  identityRoutes(app, p.identity, p.functions);
  deviceRoutes(app, p.devices, p.functions, p.identity);
  streamRoutes(app, p.ingest.series, p.devices);
  sequenceRoutes(app, p.ingest, p.devices);
  // The rule routes are shared with the gateway daemon and declare no access: the cloud gives them theirs. Jobs
  // read every owner's streams, so they are global: reading them needs a global viewer, starting and stopping
  // an operator, installing, moving and removing the cloud's admin.
  app.register(async (rules) => {
    rules.addHook('onRoute', (r) => {
      r.config = { ...r.config, access: r.method === 'GET' ? 'global:viewer' : r.url === '/api/start' || r.url === '/api/stop' ? 'global:operator' : 'global' };
    });
    rulesRoutes(rules, p.rules);
  });
  ruleReturnRoutes(app, {
    rules: p.rules,
    gatewayRequest: p.gatewayRequest,
    isGateway: (id) => p.devices.info(id)?.kind === 'gateway',
    publicUrl: p.publicUrl,
  });
  functionRoutes(app, p.functions);
  functionListRoutes(app, p.functions);
  scheduleRoutes(app, p.schedules, p.functions);
  gatewayRoutes(app, p.gatewayRequest, p.devices, p.functions, p.identity);
  if (p.soMover !== undefined) soMoveRoutes(app, p.soMover);
  if (p.compose !== undefined) soListRoutes(app, p.compose, p.soMover);
  if (p.compose !== undefined)
    soRoutes(app, {
      host: p.compose,
      ownerExists: (o) => p.functions.owners.publicKey(o) !== undefined,
      ...(p.soMover !== undefined && { push: (...a: Parameters<SoMover['push']>) => p.soMover!.push(...a) }),
    });
  if (p.notify !== undefined) notifyRoutes(app, p.notify);
  if (p.alarms !== undefined) alarmRoutes(app, p.alarms);
  if (p.soFlows !== undefined) soSubscriptionRoutes(app, p.soFlows.callbacks, p.soFlows.telemetry);
  if (p.commands !== undefined) {
    commandRoutes(app, p.commands.service, p.devices);
    broadcastRoutes(app, p.commands.service, p.commands.broadcasts, p.commands.tags, p.devices);
    commandListRoutes(app, p.commands.service, p.devices);
  }
  openApiRoute(
    app,
    openApiDocument([
      ...(p.extensions ?? []).flatMap((e) => (e.openApi !== undefined ? [e.openApi] : [])),
      ...(p.health !== undefined ? [HEALTH_OPENAPI] : []),
      FUNCTION_LIST_OPENAPI,
      RULE_RETURN_OPENAPI,
      ...(p.compose !== undefined ? [SO_LIST_OPENAPI] : []),
      ...(p.compose !== undefined ? [SOS_OPENAPI] : []),
      ...(p.soMover !== undefined ? [SO_MOVE_OPENAPI] : []),
      ...(p.notify !== undefined ? [NOTIFY_OPENAPI] : []),
      ...(p.alarms !== undefined ? [ALARMS_OPENAPI] : []),
      ...(p.soFlows !== undefined ? [SO_SUBSCRIPTIONS_OPENAPI] : []),
      ...(p.commands !== undefined ? [COMMANDS_OPENAPI, COMMAND_LISTS_OPENAPI] : []),
    ]),
  );
  // Last: the dashboard serves a page URL another route already answers (GET /health) to browsers only.
  for (const e of p.extensions ?? []) await e.register(app);
  return app;
}
