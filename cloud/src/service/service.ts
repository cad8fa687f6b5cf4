/**
 * @module The cloud service, the composition root of both running modes (docs/cloud.md): it wires the parts
 * and starts and stops them. Where state lives is modes.ts (SQLite embedded, Redis scale-out); every MQTT
 * message goes through the one intake (intake.ts) to its route: uplink into ingest (uplink.ts), function
 * calls (calls.ts), gateway control replies (control.ts). A released message is projected into namespace
 * state (projection.ts) and fed to the rules host (rules.ts); the REST API is api/. What goes down to a
 * registered device (function replies, its namespace state) is signed for it (downlink.ts).
 */
import { hostname } from 'node:os';
import { isLoopback } from '@ferry/base';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import type { RulesHost } from '@ferry/rules-host';
import { cloudApi } from './api.ts';
import { CloudOps } from '../health/ops.ts';
import { makeProbe, opsOptions, startProbe, watchLiveness } from './health.ts';
import { timedRunner } from '../health/timed-runner.ts';
import { Commands } from '../commands/index.ts';
import { ingestMetrics } from '../api/health.ts';
import { DeviceRegistry, loadMasterKey } from '../devices/registry.ts';
import { FunctionService, InProcessRunner, PoolRunner, Scheduler, startSchedules, systemClock } from '../functions/index.ts';
import { loadAdminToken } from '../identity/credentials.ts';
import { Identity } from '../identity/identity.ts';
import { Ingest } from '../ingest/index.ts';
import { holdDataDir, type DataDirHold } from '../keys/data-lock.ts';
import type { Flows } from '../compose/flows.ts';
import type { SoMover } from '../compose/move.ts';
import { soUplinkOf } from '../compose/move-uplink.ts';
import { type MqttCredential, MqttDirectory, processWorkerCredential } from '../mqtt-auth/directory.ts';
import { DynsecWiring } from '../mqtt-auth/dynsec-wiring.ts';
import { SqliteDeviceStore } from '../storage/sqlite/device-store.ts';
import { SqliteIdentityStore } from '../storage/sqlite/identity-store.ts';
import { SqliteSoLocations } from '../storage/sqlite/so-locations.ts';
import { callRoute } from './calls.ts';
import { GatewayControl } from './control.ts';
import { DownlinkSigner, nextDownlinkEpoch, StateDownlink } from './downlink.ts';
import { type BrokerAuth, embeddedAuth } from './broker.ts';
import { Intake } from './intake.ts';
import { openCloudDb, redisState, sqliteState, type StateParts } from './modes.ts';
import { type CloudOptions, checkOptions } from './options.ts';
import { DEFAULT_PROJECTIONS, Projection } from './projection.ts';
import { makeFilesPrivate, makePrivateDir } from './private-files.ts';
import { notifySealer } from '../notify/config.ts';
import type { Notifier } from '../notify/notifier.ts';
import { cloudNotifier } from '../notify/metrics.ts';
import type { NotifyEvent } from '../notify/types.ts';
import { createRulesHost, RulesFeed, relayable, relayedTopic } from './rules.ts';
import { CloudAlarms } from './alarms.ts';
import { Uplink } from './uplink.ts';
import { cloudCompose, type CloudCompose } from './compose.ts';
import type { ComposeHost } from '../compose/host.ts';

export type { CloudOptions, TlsOptions } from './options.ts';

export class CloudService {
  readonly opts: CloudOptions;
  readonly db: Database.Database;
  readonly devices: DeviceRegistry;
  readonly ingest: Ingest;
  readonly rules: RulesHost;
  /** Released messages on their way to the rules, off the ingest path (rules.ts). */
  readonly rulesFeed: RulesFeed;
  readonly functions: FunctionService;
  /** Scheduled functions: schedules and leases in SQLite (embedded) or Redis (scale-out). */
  readonly schedules: Scheduler;
  readonly projection: Projection;
  /** Who may use the HTTP API (docs/security.md). */
  readonly identity: Identity;
  /** The admin credential (adminToken, FERRY_ADMIN_TOKEN or `<data>/admin.token`); `adminTokenCreated`: made now, show it once. */
  readonly adminToken: string;
  readonly adminTokenCreated: boolean;
  /** Signs what goes down to registered devices; its epoch grows across restarts (downlink.ts). */
  readonly downlink: DownlinkSigner;
  /** The signed namespace-state snapshot of each device, re-published from a timer (downlink.ts). */
  readonly stateDownlink: StateDownlink;
  /** Commands to devices: lifecycle, broadcasts, tags (docs/actions.md). */
  readonly commands: Commands;
  readonly registry = new Registry();
  /** Readiness, device liveness, the supervisor and its incidents, latency metrics, the probe (docs/operations.md). */
  readonly ops: CloudOps;
  /** Notifications for people and systems (docs/notifications.md); `notify` is its entry point. */
  readonly notifier: Notifier;
  readonly alarms = new CloudAlarms(this); // docs/operations.md "Alarms"; the API's close stops it (api/alarms.ts)
  /** This process's own MQTT credential: the configured one, else (embedded) a random one; tests log in with it. */
  readonly mqttCredential: MqttCredential | undefined;
  /** Composite streams (service objects): the host every composite-stream part goes through (compose/host.ts). */
  readonly compose: ComposeHost;
  /** Moves composite streams between this cloud and gateways, and feeds an object wherever it is (compose/move.ts). */
  readonly soMover: SoMover;
  readonly #compose: CloudCompose;
  /** Service objects' streams over MQTT, HTTP callbacks and device telemetry (compose/flows.ts), made by start() unless set before. */
  soFlows: Flows | undefined = undefined;
  readonly #state: StateParts;
  readonly #intake: Intake;
  readonly #uplink: Uplink;
  readonly #control: GatewayControl;
  readonly #hold: DataDirHold;
  #http: FastifyInstance | undefined;
  /** Scale-out on Mosquitto: its dynamic-security plugin kept in step with the registry (mqtt-auth/dynsec-wiring.ts). */
  #dynsec: DynsecWiring | undefined;
  #ticker: NodeJS.Timeout | undefined;
  #scheduleTimer: { stop(): Promise<void> } | undefined;

  constructor(opts: CloudOptions) {
    this.opts = opts;
    const prefix = opts.topicPrefix ?? 'ferry';
    const log = this.#log;
    const synchronous = opts.synchronous ?? 'NORMAL';
    checkOptions(opts);
    makePrivateDir(opts.dataDir);
    const admin = loadAdminToken(opts.dataDir, opts.adminToken);
    this.adminToken = admin.token;
    this.adminTokenCreated = admin.created;
    this.#hold = holdDataDir(opts.dataDir); // shared by clouds, refused to a master key rotation (keys/data-lock.ts)
    this.db = openCloudDb(opts.dataDir, synchronous);
    const masterKey = loadMasterKey(join(opts.dataDir, 'master.key')); // seals device keys and owners' signing secrets
    this.devices = new DeviceRegistry(new SqliteDeviceStore(this.db), masterKey);
    this.#state =
      opts.redisUrl !== undefined
        ? redisState({ url: opts.redisUrl, masterKey, log })
        : sqliteState({ dataDir: opts.dataDir, synchronous, cloudDb: this.db, masterKey });
    makeFilesPrivate(opts.dataDir);
    const state = this.#state;
    const deviceRate = opts.deviceRate === false ? undefined : (opts.deviceRate ?? { perSecond: 200, burst: 1000 });
    this.ingest = new Ingest({
      keys: this.devices.keys,
      reorder: state.reorder,
      series: state.series,
      onError: (e) => log(`ingest: ${e.message}`),
      ...(state.transaction !== undefined && { transaction: state.transaction }),
      ...(deviceRate !== undefined && { deviceRate }),
    });
    this.functions = new FunctionService({
      ...state.functions,
      runner: timedRunner(opts.functionRunner === 'in-process' ? new InProcessRunner() : new PoolRunner({ size: 2, timeoutMs: 1000 }), (s, outcome) =>
        this.ops.metrics.functionCall.observe({ outcome }, s),
      ),
    });
    this.#compose = cloudCompose({
      ...state.compose,
      shared: opts.redisUrl !== undefined,
      functions: this.functions,
      registry: this.registry,
      prefix,
      masterKey,
      limits: opts.compose,
      log,
      gatewayRequest: (...a) => this.gatewayRequest(...a),
      gateway: (id) => (this.devices.info(id)?.kind === 'gateway' ? { owner: this.devices.info(id)?.owner } : undefined),
      locations: new SqliteSoLocations(this.db), // cloud.db: workers in scale-out share it
      lease: state.compose.lease && { ...state.compose.lease, worker: opts.clientId ?? `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}` },
    });
    this.compose = this.#compose.host;
    this.soMover = this.#compose.mover;
    this.identity = new Identity({
      store: new SqliteIdentityStore(this.db),
      adminToken: admin.token,
      ownerOf: (t) => {
        const o = this.functions.owners.authenticate(t);
        return o.ok ? o.value : undefined;
      },
    });
    this.schedules = new Scheduler({
      service: this.functions,
      clock: opts.scheduleClock ?? systemClock(),
      ...state.schedules,
      workerId: `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`,
    });

    const configured: MqttCredential | undefined =
      opts.mqttUsername !== undefined && opts.mqttPassword !== undefined ? { username: opts.mqttUsername, password: opts.mqttPassword } : undefined;
    const embedded = opts.mqttUrl === undefined;
    const authOn = opts.mqttAuth !== false;
    const own = embedded && authOn ? processWorkerCredential() : undefined;
    this.mqttCredential = own ?? configured;
    let auth: BrokerAuth | undefined;
    const directory = new MqttDirectory(this.devices, [...(own !== undefined ? [own] : []), ...(configured !== undefined ? [configured] : [])]);
    if (!embedded && opts.mqttDynsec !== undefined)
      this.#dynsec = new DynsecWiring({
        url: opts.mqttUrl!,
        admin: opts.mqttDynsec,
        prefix,
        devices: this.devices,
        directory,
        workers: configured !== undefined ? [configured] : [],
        log,
      });
    if (embedded && authOn)
      auth = embeddedAuth({ directory, devices: this.devices, prefix, broker: () => this.#intake.broker, objects: () => this.soFlows?.mqtt });
    this.#intake = new Intake({
      auth,
      credential: this.mqttCredential,
      mqttUrl: opts.mqttUrl,
      port: opts.mqttPort,
      host: opts.host ?? '127.0.0.1',
      shared: opts.shared,
      clientId: opts.clientId,
      prefix,
      mqttLimits: opts.mqttLimits,
      tls: opts.tls,
      mqttCa: opts.mqttCa,
      log,
    });
    const publish = (topic: string, payload: string, retain = false): void => this.#intake.publish(topic, payload, { qos: 1, retain });
    // Group commit only where one turn of the event loop can hold many messages: the embedded broker.
    this.#uplink = new Uplink({
      ingest: this.ingest,
      prefix,
      log,
      groupCommit: this.#intake.embedded ? state.groupCommit : undefined,
      busy: () => this.rulesFeed.busy,
      observe: (kid, o, s) => this.ops.onIngest(kid, o, s),
    });
    this.#intake.table.add(this.#uplink.route());
    this.downlink = new DownlinkSigner((id) => this.devices.downlinkKey(id), nextDownlinkEpoch(this.db));
    this.#intake.table.add(callRoute(this.functions, prefix, (t, p) => publish(t, p), this.downlink));
    this.commands = new Commands({
      db: this.db,
      ...state.commands,
      embedded,
      prefix,
      epoch: this.downlink.epoch,
      keyOf: (id) => this.devices.downlinkKey(id),
      placeOf: (id) => this.devices.placeOf(id),
      devices: () => this.devices.list(),
      publish: (t, p) => publish(t, p),
      log,
      limits: opts.commands,
      notify: (e) => this.notify(e), // failed, expired and rejected commands (docs/actions.md "Notifications")
      answers: async (device, from) => (await this.ingest.series.query(`${device}/cmd.ack`, from, Date.now() + 1)).map((p) => p.value),
    });
    this.devices.watch({ removed: (id) => this.commands.tags.remove(id) });
    this.#control = new GatewayControl(this.#intake, this.devices.secretOf, prefix, this.registry); // adds the control-reply route

    this.rules = createRulesHost({
      // A rule output on `<prefix>/cmd/<device>` is a command (docs/actions.md "Triggers").
      publish: (t, p) => {
        if (!this.commands.ruleOutput(t, p) && !this.alarms.ruleOutput(t, p)) publish(t, p);
      },
      gatewayRequest: (...a) => this.gatewayRequest(...a),
      log,
      isGateway: (id) => this.devices.info(id)?.kind === 'gateway',
      movePeers: opts.movePeers ?? [],
    });
    this.stateDownlink = new StateDownlink(
      {
        signer: this.downlink,
        stateOf: (ns) => this.projection.state.get(ns),
        devices: () => this.devices.list(),
        publish: (t, p) => publish(t, p, true),
        log,
      },
      prefix,
    );
    this.projection = new Projection(
      opts.projections ?? DEFAULT_PROJECTIONS,
      {
        placeOf: (kid) => this.devices.placeOf(kid),
        ownerState: (owner, ns) => this.functions.namespaces.state(owner, ns),
        publish: (t, value) => publish(t, value, true),
        changed: (ns) => this.stateDownlink.touch(ns),
      },
      prefix,
    );
    const feed = new RulesFeed(this.rules, { observe: (s) => this.ops.metrics.ruleEvaluation.observe(s) });
    this.rulesFeed = feed;
    this.ops = new CloudOps({
      db: this.db,
      registry: this.registry,
      rules: this.rules,
      known: (id) => this.devices.placeOf(id) !== undefined, // cached in memory: asked for every tracked device each period
      ownerOf: (id) => this.devices.placeOf(id)?.owner,
      registered: () => this.devices.list(),
      brokerUp: () => this.#intake.client?.connected === true,
      pingStore: () => this.#state.ping(),
      rulesBacklog: () => feed.backlog,
      log,
      notify: opts.health?.notify ?? ((e) => this.notify(e)),
      ...opsOptions(opts),
    });
    watchLiveness(this.ops, this.#intake, prefix, (gw) => this.alarms.gatewayOnline(gw));
    if (opts.health?.probe !== undefined) makeProbe(this.ops, this.#intake, { ...opts.health.probe, prefix, rules: this.rules, log });
    this.ingest.subscribe((e) => {
      this.ops.onEvent(e);
      this.projection.apply(e);
      feed.push(e);
      this.soFlows?.feed(e);
      const so = soUplinkOf(e); // a gateway's composite-stream values and feeds (compose/move-uplink.ts)
      if (so !== undefined) void this.soMover.fromGateway(so.gateway, so.d).then((why) => why !== undefined && log(`compose: from ${so.gateway}: ${why}`));
      this.commands.released(e);
      // A gateway's rule output for a topic outside its own space: relayed there once verified (rules.ts).
      const relay = relayedTopic(e);
      if (relay !== undefined && e.type === 'message' && relayable(prefix, relay))
        publish(relay, JSON.stringify((e.message.claims['d'] as Record<string, unknown>)['out'] ?? null));
    });
    ingestMetrics(this.registry, this.ingest);
    this.notifier = cloudNotifier({
      store: state.notify,
      sealer: notifySealer(masterKey),
      prefix,
      mqtt: () => this.#intake.client,
      log,
      registry: this.registry,
      ...opts.notify,
    });
  }

  /** Tells the notifier something happened: persisted first, delivered after; never throws, never waits. */
  notify(e: NotifyEvent): void {
    this.notifier.notify(this.alarms.observe(e));
  }

  /** Projected namespace state by place (owner and namespace: projection.ts placeKey), then key. */
  get namespaceState(): Map<string, Map<string, string>> {
    return this.projection.state;
  }

  /** Starts the state, the broker (embedded mode), MQTT intake, HTTP API. Returns the URLs in use. */
  async start(): Promise<{ mqttUrl: string; httpUrl: string }> {
    await this.#state.start();
    await this.#dynsec?.start(); // the worker's own dynsec client must exist before it connects
    await this.#compose.start(); // persisted service objects, before any update can arrive
    const mqttUrl = await this.#intake.start();
    if (this.#intake.broker !== undefined) this.commands.attach(this.#intake.broker.events);
    this.commands.start();
    this.#compose.commandTrigger({ deviceOwner: (id) => this.devices.info(id)?.owner, enqueue: (r) => this.commands.service.enqueue(r) });
    this.#ticker = setInterval(() => {
      void this.ingest.tick();
      this.rules.tick();
    }, 250);
    this.#ticker.unref();
    this.notifier.start(); // first sends what a previous run accepted and did not deliver
    // Service objects' streams over MQTT, HTTP callbacks and device telemetry, on this cloud's host (tests may
    // set their own before start). Callbacks reach private addresses only where notifications may.
    this.soFlows ??= this.#compose.flows({
      db: this.db,
      ownerOf: (id) => this.devices.info(id)?.owner,
      publish: (t, p) => this.#intake.publish(t, p, { qos: 1, retain: false }),
      worker: this.opts.clientId,
      callbacks: { allowPrivate: this.opts.notify?.allowPrivateAddresses === true },
    });
    this.#scheduleTimer = startSchedules(this.schedules, { tickMs: this.opts.scheduleTickMs, log: this.#log });
    this.#http = await cloudApi(this, { sealer: this.notifier.sealer, mqttConnected: () => this.#intake.client?.connected === true });
    const httpUrl = await this.#http.listen({ host: this.opts.httpHost ?? '127.0.0.1', port: this.opts.httpPort ?? 8080 });
    this.#intake.broker?.watchClients({ connected: (id) => this.ops.liveness.connected(id), disconnected: (id) => this.ops.liveness.disconnected(id, false) });
    if (this.opts.health?.probe !== undefined) {
      await this.mqttSettled(); // scale-out on Mosquitto: the probe's identity must be known before it connects
      await startProbe(this.ops, { devices: this.devices, mqttUrl, epoch: this.downlink.epoch, tls: this.opts.tls, mqttCa: this.opts.mqttCa }).catch(
        (e: unknown) => this.#log(`probe: not started: ${e instanceof Error ? e.message : String(e)}`),
      );
    }
    await this.alarms.start();
    this.ops.start();
    makeFilesPrivate(this.opts.dataDir); // the WAL and shared-memory files the databases made meanwhile
    this.#log(`ferry cloud: MQTT ${mqttUrl}${this.#intake.embedded ? ' (embedded)' : ''}, HTTP ${httpUrl}, data ${this.opts.dataDir}`);
    return { mqttUrl, httpUrl };
  }

  /** The HTTP API once started (tests list its routes: api/auth.ts declaredRoutes). */
  get api(): FastifyInstance | undefined {
    return this.#http;
  }

  /** Resolves once Mosquitto's dynamic-security plugin has every registry change made so far (scale-out). */
  async mqttSettled(): Promise<void> {
    await this.#dynsec?.settled();
  }

  /** A request to a gateway's REST API over its control channel. */
  async gatewayRequest(gatewayId: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    return this.#control.request(gatewayId, method, path, body);
  }

  async stop(): Promise<void> {
    await this.ops.stop();
    this.#uplink.stop();
    this.stateDownlink.stop();
    await this.soFlows?.stop();
    await this.commands.stop();
    await this.#scheduleTimer?.stop(); // before the runner, the database and Redis close under a run
    await this.notifier.stop(); // attempts in flight record their outcome before the stores close
    if (this.#ticker !== undefined) clearInterval(this.#ticker);
    await this.functions.runner.close();
    await this.#compose.close();
    await this.#http?.close();
    await this.#intake.stop();
    await this.#dynsec?.close();
    this.db.close();
    await this.#state.close();
    this.#hold.release();
  }

  #log = (msg: string): void => (this.opts.log ?? console.log)(msg);
}

export { isLoopback };
