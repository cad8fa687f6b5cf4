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
import { buildApi } from '../api/server.ts';
import { Commands } from '../commands/index.ts';
import { ingestMetrics } from '../api/health.ts';
import { DeviceRegistry, loadMasterKey } from '../devices/registry.ts';
import { FunctionService, InProcessRunner, PoolRunner, Scheduler, startSchedules, systemClock } from '../functions/index.ts';
import { loadAdminToken } from '../identity/credentials.ts';
import { Identity } from '../identity/identity.ts';
import { Ingest } from '../ingest/index.ts';
import { holdDataDir, type DataDirHold } from '../keys/data-lock.ts';
import { allowed } from '../mqtt-auth/acl.ts';
import { type MqttCredential, MqttDirectory, processWorkerCredential } from '../mqtt-auth/directory.ts';
import { DynsecSync } from '../mqtt-auth/dynsec.ts';
import { mqttPassword } from '@ferry/message/node';
import { SqliteDeviceStore } from '../storage/sqlite/device-store.ts';
import { SqliteCommandStore } from '../storage/sqlite/command-store.ts';
import { RedisCommandStore } from '../storage/redis/command-store.ts';
import { Redis } from 'ioredis';
import { SqliteIdentityStore } from '../storage/sqlite/identity-store.ts';
import { callRoute } from './calls.ts';
import { GatewayControl } from './control.ts';
import { DownlinkSigner, nextDownlinkEpoch, StateDownlink } from './downlink.ts';
import type { BrokerAuth } from './broker.ts';
import { Intake } from './intake.ts';
import { openCloudDb, redisState, sqliteState, type StateParts } from './modes.ts';
import type { CloudOptions } from './options.ts';
import { DEFAULT_PROJECTIONS, Projection } from './projection.ts';
import { makeFilesPrivate, makePrivateDir } from './private-files.ts';
import { createRulesHost, RulesFeed, relayable, relayedTopic } from './rules.ts';
import { Uplink } from './uplink.ts';

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
  /**
   * The cloud admin's credential: CloudOptions.adminToken, FERRY_ADMIN_TOKEN, or `<data>/admin.token` (0600),
   * made at first start; `adminTokenCreated` says it was made now (show it once).
   */
  readonly adminToken: string;
  readonly adminTokenCreated: boolean;
  /** Signs what goes down to registered devices; its epoch grows across restarts (downlink.ts). */
  readonly downlink: DownlinkSigner;
  /** The signed namespace-state snapshot of each device, re-published from a timer (downlink.ts). */
  readonly stateDownlink: StateDownlink;
  /** Commands to devices: lifecycle, broadcasts, tags (docs/actions.md). */
  readonly commands: Commands;
  readonly registry = new Registry();
  /**
   * The worker credential this process's own MQTT connections present: the configured one (mqttUsername /
   * mqttPassword), else, embedded, a random one made at construction. Tests connect with it where they stand
   * in for the cloud or for many devices at once.
   */
  readonly mqttCredential: MqttCredential | undefined;
  readonly #state: StateParts;
  readonly #intake: Intake;
  readonly #uplink: Uplink;
  readonly #control: GatewayControl;
  readonly #hold: DataDirHold;
  #http: FastifyInstance | undefined;
  #dynsec: DynsecSync | undefined;
  #dynsecStart: (() => Promise<void>) | undefined;
  #dynsecQueue: Promise<void> = Promise.resolve();
  #ticker: NodeJS.Timeout | undefined;
  #scheduleTimer: { stop(): Promise<void> } | undefined;

  constructor(opts: CloudOptions) {
    this.opts = opts;
    const prefix = opts.topicPrefix ?? 'ferry';
    const log = (m: string): void => this.#log(m);
    const synchronous = opts.synchronous ?? 'NORMAL';
    for (const [what, addr] of [
      ['--host', opts.host],
      ['--http-host', opts.httpHost],
    ] as const) {
      if (addr !== undefined && !isLoopback(addr) && opts.insecure !== true && opts.tls === undefined) {
        throw new RangeError(
          `${what} ${addr} is not a loopback address: without TLS everything it serves crosses the network in clear; give a certificate (CloudOptions.tls, --tls-cert/--tls-key) or pass --insecure (CloudOptions.insecure) to do it anyway`,
        );
      }
    }
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
      runner: opts.functionRunner === 'in-process' ? new InProcessRunner() : new PoolRunner({ size: 2, timeoutMs: 1000 }),
    });
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
    if (!embedded && opts.mqttDynsec !== undefined) {
      // Scale-out on Mosquitto: its dynamic-security plugin learns every identity the registry adds or removes.
      const admin = opts.mqttDynsec;
      const url = opts.mqttUrl!;
      this.#dynsecStart = async () => {
        const sync = await DynsecSync.connect({ url, admin, prefix, identityOf: (id) => directory.identityOf(id), log });
        this.#dynsec = sync;
        const devices = this.devices.list().map((d) => ({ id: d.id, password: this.devices.mqttPasswordOf(d.id) }));
        await sync.syncAll(devices, configured !== undefined ? [configured] : []);
      };
      const later = (what: string, f: (sync: DynsecSync) => Promise<void>): void => {
        this.#dynsecQueue = this.#dynsecQueue.then(async () => {
          if (this.#dynsec !== undefined) await f(this.#dynsec).catch((e: unknown) => log(`dynsec: ${what}: ${e instanceof Error ? e.message : String(e)}`));
        });
      };
      this.devices.watch({
        added: (rec, key) => later(`adding ${rec.id}`, (sync) => sync.deviceAdded(rec, mqttPassword(key, rec.id))),
        removed: (id, rec) => later(`removing ${id}`, (sync) => sync.deviceRemoved(id, rec.gateway)),
      });
    }
    if (embedded && authOn) {
      auth = {
        authenticate: (c, u, p) => directory.authenticate(c, u, p),
        identityOf: (id) => directory.identityOf(id),
        allowed: (who, access, topic) => allowed(who, access, topic, prefix),
      };
      // A removed device is cut off at once; a gateway whose boards changed gets its new grants.
      this.devices.watch({
        added: () => this.#intake.broker?.refresh(),
        removed: (id) => {
          this.#intake.broker?.disconnect(id);
          this.#intake.broker?.refresh();
        },
      });
    }
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
    });
    this.#intake.table.add(this.#uplink.route());
    this.downlink = new DownlinkSigner((id) => this.devices.downlinkKey(id), nextDownlinkEpoch(this.db));
    this.#intake.table.add(callRoute(this.functions, prefix, (t, p) => publish(t, p), this.downlink));
    const cmdRedis = opts.redisUrl !== undefined ? new Redis(opts.redisUrl, { maxRetriesPerRequest: 3 }) : undefined;
    this.commands = new Commands({
      db: this.db,
      store: cmdRedis !== undefined ? new RedisCommandStore({ redis: cmdRedis }) : new SqliteCommandStore(this.db),
      redis: cmdRedis,
      embedded,
      prefix,
      epoch: this.downlink.epoch,
      keyOf: (id) => this.devices.downlinkKey(id),
      placeOf: (id) => this.devices.placeOf(id),
      devices: () => this.devices.list(),
      publish: (t, p) => publish(t, p),
      log,
      limits: opts.commands,
      notify: opts.notify,
      answers: async (device, from) => (await this.ingest.series.query(`${device}/cmd.ack`, from, Date.now() + 1)).map((p) => p.value),
    });
    this.devices.watch({ removed: (id) => this.commands.tags.remove(id) });
    this.#control = new GatewayControl(this.#intake, this.devices.secretOf, prefix, this.registry); // adds the control-reply route

    this.rules = createRulesHost({
      // A rule output on `<prefix>/cmd/<device>` is a command (docs/actions.md "Triggers").
      publish: (t, p) => {
        if (!this.commands.ruleOutput(t, p)) publish(t, p);
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
    const feed = new RulesFeed(this.rules);
    this.rulesFeed = feed;
    this.ingest.subscribe((e) => {
      this.projection.apply(e);
      feed.push(e);
      this.commands.released(e);
      // A gateway's rule output for a topic outside its own space: relayed there once verified (rules.ts).
      const relay = relayedTopic(e);
      if (relay !== undefined && e.type === 'message' && relayable(prefix, relay))
        publish(relay, JSON.stringify((e.message.claims['d'] as Record<string, unknown>)['out'] ?? null));
    });
    ingestMetrics(this.registry, this.ingest);
  }

  /** Projected namespace state by place (owner and namespace: projection.ts placeKey), then key. */
  get namespaceState(): Map<string, Map<string, string>> {
    return this.projection.state;
  }

  /** Starts the state, the broker (embedded mode), MQTT intake, HTTP API. Returns the URLs in use. */
  async start(): Promise<{ mqttUrl: string; httpUrl: string }> {
    await this.#state.start();
    await this.#dynsecStart?.(); // the worker's own dynsec client must exist before it connects
    const mqttUrl = await this.#intake.start();
    if (this.#intake.broker !== undefined) this.commands.attach(this.#intake.broker.events);
    this.commands.start();
    this.#ticker = setInterval(() => {
      void this.ingest.tick();
      this.rules.tick();
    }, 250);
    this.#ticker.unref();
    this.#scheduleTimer = startSchedules(this.schedules, { tickMs: this.opts.scheduleTickMs, log: (m) => this.#log(m) });
    this.#http = await buildApi({
      identity: this.identity,
      rates: this.opts.httpRates,
      ingest: this.ingest,
      devices: this.devices,
      functions: this.functions,
      schedules: this.schedules,
      rules: this.rules,
      commands: this.commands,
      registry: this.registry,
      mqttConnected: () => this.#intake.client?.connected === true,
      gatewayRequest: (...a) => this.gatewayRequest(...a),
      log: (m) => this.#log(`http: ${m}`),
      ...(this.opts.tls !== undefined && { https: { cert: this.opts.tls.cert, key: this.opts.tls.key } }),
    });
    const httpUrl = await this.#http.listen({ host: this.opts.httpHost ?? '127.0.0.1', port: this.opts.httpPort ?? 8080 });
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
    await this.#dynsecQueue;
  }

  /** A request to a gateway's REST API over its control channel. */
  async gatewayRequest(gatewayId: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    return this.#control.request(gatewayId, method, path, body);
  }

  async stop(): Promise<void> {
    this.#uplink.stop();
    this.stateDownlink.stop();
    await this.commands.stop();
    await this.#scheduleTimer?.stop(); // before the runner, the database and Redis close under a run
    if (this.#ticker !== undefined) clearInterval(this.#ticker);
    await this.functions.runner.close();
    await this.#http?.close();
    await this.#intake.stop();
    await this.#dynsecQueue;
    await this.#dynsec?.close();
    this.db.close();
    await this.#state.close();
    this.#hold.release();
  }

  #log(msg: string): void {
    (this.opts.log ?? ((m: string) => console.log(m)))(msg);
  }
}

export { isLoopback };
