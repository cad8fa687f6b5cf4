/**
 * @module The cloud service, one code path for both running modes: embedded (an aedes broker in this
 * process, SQLite under the data dir) or scale-out (an external MQTT 5 broker, N processes sharing the
 * work through a `$share/ferry/...` subscription). Messages from `<prefix>/up/#` go through the ingest
 * pipeline; released events are stored, fed to the rules host, and offered to subscribers. An MQTT
 * message is acknowledged only after ingest has recorded it (at-least-once; de-duplication makes
 * processing effectively-once).
 */
import { mkdirSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import Database from 'better-sqlite3';
import Fastify, { type FastifyInstance } from 'fastify';
import mqtt, { type MqttClient } from 'mqtt';
import { Gauge, Registry } from 'prom-client';
import type { Json } from '@ferry/message';
import { RulesHost, httpTransport, rulesRoutes } from '@ferry/rules-api';
import { ControlClient } from '@ferry/control';
import { DeviceError, DeviceRegistry, loadMasterKey } from '../devices/registry.ts';
import { SqliteDeviceStore } from '../storage/sqlite/device-store.ts';
import { Ingest, type Arrival, type IngestEvent, type IngestOutcome } from '../ingest/index.ts';
import { Redis } from 'ioredis';
import { arrivalCodec, RedisReorderStore, RedisTimeSeries, SqliteReorderStore, SqliteTimeSeries, openSqlite } from '../storage/index.ts';
import { FunctionService, InProcessRunner, PoolRunner } from '../functions/index.ts';
import { sqliteFunctionStores } from '../storage/sqlite/function-stores.ts';
import { redisFunctionStores, type RedisFunctionStores } from '../storage/redis/function-stores.ts';
import { functionRoutes, functionTopics } from '../api/functions.ts';
import type { Clock, Scheduler } from '../functions/index.ts';
import { scheduleRoutes, schedulerFor } from '../api/schedules.ts';
import { startSchedules } from '../functions/schedules/timer.ts';

export interface CloudOptions {
  readonly dataDir: string;
  /** External broker URL (scale-out). Without it, an embedded aedes broker listens on mqttPort. */
  readonly mqttUrl?: string;
  readonly mqttPort?: number;
  readonly httpPort?: number;
  readonly host?: string;
  readonly topicPrefix?: string;
  /** Subscribe through a shared subscription (MQTT 5) so several cloud processes split the stream. */
  readonly shared?: boolean;
  /**
   * Redis URL (scale-out): re-order state and time series live in Redis, one Lua script per message, so N
   * processes share the work. Without it they live in SQLite under dataDir (embedded).
   */
  readonly redisUrl?: string;
  /**
   * SQLite durability (the ingest file in embedded mode, and cloud.db: devices, owners, modules, namespace
   * state, schedules): NORMAL (default) survives a crash of the process; FULL also survives a power cut (an
   * fsync per commit), at about half the throughput. Embedded, the uplink messages of one event-loop turn share
   * one commit (each its own savepoint), and are acknowledged after it.
   */
  readonly synchronous?: 'FULL' | 'NORMAL';
  readonly log?: (msg: string) => void;
  /**
   * A stable id for this worker (scale-out). Its MQTT session then persists (clean start off, one hour of
   * session expiry), so messages the broker handed it and never saw acknowledged, and those queued for it
   * while it was down, come back when it restarts under the same id (kill -9, then systemd Restart=always).
   * Without it the id is random and the session ends with the connection.
   */
  readonly clientId?: string;
  /**
   * Flood limit per device (token bucket per verified kid, per process): beyond it messages are dropped as
   * FERRY_INGEST_RATE_LIMITED and acknowledged. Default 200/s with a burst of 1000, far above any sensor;
   * `false` turns it off.
   */
  readonly deviceRate?: { readonly perSecond: number; readonly burst: number } | false;
  /** Where functions run: 'pool' (default: worker threads with a CPU watchdog, for untrusted modules) or 'in-process'. */
  readonly functionRunner?: 'pool' | 'in-process';
  /** How often this worker looks for due schedules (ms, default 1000); and the clock periods are counted on (tests). */
  readonly scheduleTickMs?: number;
  readonly scheduleClock?: Clock;
}

export class CloudService {
  readonly opts: CloudOptions;
  readonly db: Database.Database;
  readonly devices: DeviceRegistry;
  readonly ingest: Ingest;
  readonly rules: RulesHost;
  readonly functions: FunctionService;
  /** Scheduled functions: schedules and leases in SQLite (embedded) or Redis (scale-out). */
  readonly schedules: Scheduler;
  private scheduleTimer: { stop(): Promise<void> } | undefined;
  readonly registry = new Registry();
  private broker: Aedes | undefined;
  private brokerServer: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private client: MqttClient | undefined;
  /** Scale-out: the connection that takes the uplink (the main client carries control and function calls). */
  private intake: MqttClient | undefined;
  private http: FastifyInstance | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private control: ControlClient | undefined;
  private readonly redis: Redis | undefined;
  /** Scale-out: the function stores shared through Redis (loaded in start, closed in stop). */
  private readonly fnRedis: RedisFunctionStores | undefined;
  private readonly ingestDb: Database.Database | undefined;

  constructor(opts: CloudOptions) {
    this.opts = opts;
    mkdirSync(opts.dataDir, { recursive: true });
    this.db = new Database(join(opts.dataDir, 'cloud.db'));
    this.db.pragma('journal_mode = WAL');
    // The same durability choice as the ingest file (--sync): NORMAL survives a process crash, FULL a power cut.
    this.db.pragma(`synchronous = ${opts.synchronous ?? 'NORMAL'}`);
    const deviceRate = opts.deviceRate === false ? undefined : opts.deviceRate ?? { perSecond: 200, burst: 1000 };
    const masterKey = loadMasterKey(join(opts.dataDir, 'master.key')); // seals device keys and owners' signing secrets
    this.devices = new DeviceRegistry(new SqliteDeviceStore(this.db), masterKey);
    if (opts.redisUrl !== undefined) {
      this.redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 3 });
      this.ingest = new Ingest({
        keys: this.devices.keys,
        // Releases go through the per-device outbox: a worker killed between taking and storing them has them
        // released again after the lease (ports.ts `confirm`); the series ignores a point stored twice.
        reorder: new RedisReorderStore<Arrival>({ redis: this.redis, codec: arrivalCodec(), onIndexError: (e) => this.log(`ingest: due index: ${e.message}`) }),
        series: new RedisTimeSeries({ redis: this.redis }),
        onError: (e) => this.log(`ingest: ${e.message}`),
        ...(deviceRate !== undefined && { deviceRate }),
      });
    } else {
      const store = openSqlite({ dir: opts.dataDir, file: 'ingest.sqlite', synchronous: opts.synchronous ?? 'NORMAL' });
      this.ingestDb = store;
      const tx = store.transaction((f: () => unknown) => f());
      this.groupTx = (f) => { tx.immediate(f); };
      this.ingest = new Ingest({
        keys: this.devices.keys,
        reorder: new SqliteReorderStore<Arrival>({ db: store, codec: arrivalCodec() }),
        // One transaction per message: a release is stored in the commit that takes it out of the buffer.
        transaction: <T>(f: () => T): T => tx.immediate(f) as T,
        series: new SqliteTimeSeries(store),
        onError: (e) => this.log(`ingest: ${e.message}`),
        ...(deviceRate !== undefined && { deviceRate }),
      });
    }
    this.rules = new RulesHost({
      runtime: 'cloud',
      publish: (topic, payload) => this.client?.publish(topic, JSON.stringify(payload), { qos: 1 }),
      onError: (e) => this.log(`rules: ${e.message}`),
      // A job moved to `gateway:<id>` travels over that gateway's control channel; others over HTTP.
      transport: async (relocation) => {
        const gw = /^gateway:(.+)$/.exec(relocation.targetResource)?.[1];
        if (gw === undefined) return httpTransport(relocation);
        const reply = await this.gatewayRequest(gw, 'POST', '/api/move', relocation);
        if (reply.status >= 300) throw new Error(`gateway ${gw} refused the job: ${reply.status} ${JSON.stringify(reply.body)}`);
        return reply.body;
      },
    });
    this.ingest.subscribe((e) => this.onEvent(e));
    // Embedded: owners, modules, white-lists, namespace state and revocations in cloud.db, so they survive a
    // restart (functions/sqlite-stores.ts). Scale-out: shared through Redis, a write-through copy per worker
    // (functions/redis-stores.ts; every worker needs the same master key: a shared data dir or FERRY_MASTER_KEY).
    const fnStores = this.redis === undefined ? sqliteFunctionStores(this.db, { masterKey })
      : (this.fnRedis = redisFunctionStores(this.redis, { masterKey, subscriber: this.redis.duplicate(), onError: (e) => this.log(`functions: ${e.message}`) }));
    this.functions = new FunctionService({ ...fnStores, runner: opts.functionRunner === 'in-process' ? new InProcessRunner() : new PoolRunner({ size: 2, timeoutMs: 1000 }) });
    this.schedules = schedulerFor({ functions: this.functions, ...(this.redis !== undefined ? { redis: this.redis } : { db: this.db }), clock: opts.scheduleClock });
    const ingest = this.ingest;
    new Gauge({
      name: 'ferry_cloud_ingest_total', help: 'Ingest outcomes by kind', labelNames: ['outcome'], registers: [this.registry],
      collect() { for (const [k, v] of Object.entries(ingest.counters())) if (typeof v === 'number') this.set({ outcome: k }, v); },
    });
  }

  private log(msg: string): void {
    (this.opts.log ?? ((m: string) => console.log(m)))(msg);
  }

  private get prefix(): string {
    return this.opts.topicPrefix ?? 'ferry';
  }

  /**
   * Namespace state fed by devices: each device's telemetry reading `t` becomes `temp.<kid>` =
   * "<celsius> <unix ms>" in its namespace — the form the thermostat firmware reads — and is published
   * retained on `<prefix>/ns/<namespace>/state/<key>`, so boards online mirror the room readers of their
   * namespace and decide on all of them (offline, those entries go stale and the board falls back to its
   * own sensor).
   */
  readonly namespaceState = new Map<string, Map<string, string>>();

  private projectTelemetry(e: Extract<IngestEvent, { type: 'message' }>): void {
    const d = e.message.claims['d'] as Record<string, unknown> | undefined;
    const t = d?.['t'];
    if (e.message.claims['ev'] !== 'tel' || typeof t !== 'number') return;
    const place = this.devices.placeOf(e.kid);
    if (place === undefined) return;
    const ns = place.namespace;
    const key = `temp.${e.kid}`;
    const value = `${t} ${e.message.claims.iat * 1000}`;
    let m = this.namespaceState.get(ns);
    if (m === undefined) this.namespaceState.set(ns, (m = new Map()));
    m.set(key, value);
    // A device of a function owner also feeds that owner's namespace state: the owner's functions (e.g.
    // min_temperature, called by hash from a board) read every room reader there through the device ABI.
    if (place.owner !== undefined) this.functions.namespaces.state(place.owner, ns).set(key, utf8.encode(value));
    this.client?.publish(`${this.prefix}/ns/${ns}/state/${key}`, value, { qos: 1, retain: true });
  }

  private onEvent(e: IngestEvent): void {
    if (e.type !== 'message') return;
    this.projectTelemetry(e);
    const id = `${e.kid}/${e.ep}/${e.sq}`;
    const topic = e.topic;
    const d = e.message.claims['d'];
    if (topic === undefined || typeof d !== 'object' || d === null || Array.isArray(d)) return;
    // A gateway rule's output is {topic, out}: the next stage sees `out`, as it would on the gateway.
    // A reading: the record a gateway's rules see for it, its data without transport metadata.
    const { meta: _meta, ...reading } = d as Record<string, Json>;
    const record = e.message.claims['ev'] === 'rule' ? (d as Record<string, Json>)['out'] : reading;
    this.rules.input(topic, record, e.message.claims.iat * 1000, id);
  }

  /** Starts broker (embedded mode), MQTT intake, HTTP API. Returns the URLs in use. */
  async start(): Promise<{ mqttUrl: string; httpUrl: string }> {
    const host = this.opts.host ?? '127.0.0.1';
    await this.fnRedis?.load(); // the shared function stores, before any call can arrive (MQTT or HTTP)
    let mqttUrl = this.opts.mqttUrl;
    if (mqttUrl === undefined) {
      this.broker = await Aedes.createBroker();
      // Embedded: the broker is in this process, so ingest runs inside it, before the publisher's PUBACK: a
      // message is acknowledged to the board or gateway only once ingest recorded it (no second MQTT hop).
      const up = `${this.prefix}/up/`;
      this.broker.authorizePublish = (c, packet, callback) => {
        if (c === null || !packet.topic.startsWith(up)) { callback(null); return; }
        const bytes = payloadBytes(packet.payload);
        if (this.groupTx !== undefined) {
          // Group commit: what arrived in this turn of the event loop (aedes hands over a whole socket read
          // before any of it is acknowledged) is ingested in one SQLite transaction, then acknowledged.
          if (this.batch.push({ topic: packet.topic, bytes, callback }) === 1) setImmediate(() => this.flushBatch());
          return;
        }
        this.onMqtt(packet.topic, bytes).then(() => callback(null), (e: unknown) => callback(e instanceof Error ? e : new Error(String(e))));
      };
      // noDelay: MQTT exchanges are small request/response packets; Nagle plus delayed ACKs adds ~40 ms per hop.
      const srv = createServer({ noDelay: true }, this.broker.handle);
      srv.on('connection', (s) => { this.sockets.add(s); s.once('close', () => this.sockets.delete(s)); });
      this.brokerServer = srv;
      await new Promise<void>((r) => srv.listen(this.opts.mqttPort ?? 1883, host, () => r()));
      const a = srv.address();
      mqttUrl = `mqtt://${host}:${typeof a === 'object' && a !== null ? a.port : 1883}`;
    }
    // With a stable id the session persists (see CloudOptions.clientId). Message handlers are installed before
    // the connection is made: a resumed session delivers its backlog right after CONNACK.
    const stable = this.opts.clientId !== undefined;
    const v5 = this.opts.shared === true || stable;
    const connect = (suffix: string): MqttClient => noDelay(mqtt.connect(mqttUrl, {
      clientId: `${this.opts.clientId ?? `ferry-cloud-${process.pid}-${Math.random().toString(36).slice(2, 8)}`}${suffix}`,
      protocolVersion: v5 ? 5 : 4, reconnectPeriod: 1000,
      ...(stable && { clean: false, properties: { sessionExpiryInterval: 3600 } }),
    }));
    const connected = (c: MqttClient): Promise<void> => new Promise<void>((resolve, reject) => {
      c.once('connect', () => resolve());
      c.once('error', reject);
    });
    const client = connect('');
    this.client = client;
    this.control = new ControlClient(client, this.devices.keys, this.prefix);
    await connected(client);
    // A worker that died between a step and its due-index update left a source unindexed: repair it.
    if (this.ingest.reorder instanceof RedisReorderStore) await this.ingest.reorder.reindex();
    await functionTopics(client, this.functions, this.prefix);
    if (this.broker === undefined) {
      // External broker: an intake connection subscribes to the uplink; a message is acknowledged only after
      // ingest recorded it (mqtt.js acks when `done` is called), and mqtt.js hands them over one at a time.
      // (Several intake connections per process, to overlap Redis round trips, stalled a share of the stream
      // under load with Mosquitto 2.0 in our benchmark; run more worker processes instead.)
      const upPrefix = `${this.prefix}/up/`;
      const filter = `${this.prefix}/up/#`;
      const c = connect('-in');
      c.handleMessage = (packet, done) => {
        if (!packet.topic.startsWith(upPrefix)) { done(); return; }
        // Not acknowledged when it failed (only while stopping): the broker sends it again.
        this.onMqtt(packet.topic, payloadBytes(packet.payload)).then(() => done(), () => undefined);
      };
      this.intake = c;
      await connected(c);
      await c.subscribeAsync(this.opts.shared === true ? `$share/ferry/${filter}` : filter, { qos: 1 });
    }
    this.ticker = setInterval(() => { void this.ingest.tick(); this.rules.tick(); }, 250);
    this.ticker.unref();
    this.scheduleTimer = startSchedules(this.schedules, { tickMs: this.opts.scheduleTickMs, log: (m) => this.log(m) });
    this.http = this.api();
    const httpUrl = await this.http.listen({ host, port: this.opts.httpPort ?? 8080 });
    this.log(`ferry cloud: MQTT ${mqttUrl}${this.broker ? ' (embedded)' : ''}, HTTP ${httpUrl}, data ${this.opts.dataDir}`);
    return { mqttUrl, httpUrl };
  }

  /** Embedded SQLite: runs its argument in one transaction (each message is a savepoint inside it). */
  private groupTx: ((f: () => void) => void) | undefined;
  private batch: { topic: string; bytes: Uint8Array; callback: (error?: Error | null) => void }[] = [];

  /**
   * One commit for a batch of uplink messages, then their PUBACKs. Each message keeps its own outcome (a
   * savepoint each: one that fails rolls back alone); a message that failed, or a batch whose commit failed,
   * goes the one-at-a-time way with retries. Subscribers may hear of a batch's events just before its commit;
   * if that commit fails they hear of them again on the retry (at-least-once dispatch, as with the outbox).
   */
  private flushBatch(): void {
    const batch = this.batch;
    this.batch = [];
    const outs: (IngestOutcome | undefined)[] = [];
    try {
      this.groupTx!(() => {
        for (const m of batch) {
          const out = this.ingest.ingest(m.bytes, { topic: m.topic });
          outs.push(out instanceof Promise ? undefined : out); // embedded ports answer synchronously
        }
      });
    } catch (e) {
      this.log(`ingest: a batch commit failed (${e instanceof Error ? e.message : String(e)}); retrying one at a time`);
      outs.length = 0;
    }
    for (const [i, m] of batch.entries()) {
      const o = outs[i];
      if (o !== undefined && o.status !== 'failed') { m.callback(null); continue; }
      this.onMqtt(m.topic, m.bytes).then(() => m.callback(null), (e: unknown) => m.callback(e instanceof Error ? e : new Error(String(e))));
    }
  }

  private async onMqtt(topic: string, bytes: Uint8Array): Promise<void> {
    // 'failed' means nothing was recorded (the store is unreachable, a transaction rolled back): the message
    // is not acknowledged; it is tried again with back-off, holding up this client's intake (back-pressure)
    // until the store is back. A stopping service gives up without acknowledging (the broker redelivers).
    let out = await this.ingest.ingest(bytes, { topic });
    for (let wait = 100; out.status === 'failed' && !this.stopping; wait = Math.min(wait * 2, 2000)) {
      this.log(`ingest: ${out.error?.message ?? 'failed'}; retrying in ${wait} ms`);
      await new Promise((r) => setTimeout(r, wait));
      out = await this.ingest.ingest(bytes, { topic });
    }
    if (out.status === 'failed') throw out.error ?? new Error('ingest failed');
  }

  private api(): FastifyInstance {
    const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
    app.get('/health', async () => ({ status: 'ok', mqtt: this.client?.connected === true, ingest: this.ingest.counters() }));
    app.get('/metrics', async (_r, reply) => reply.type(this.registry.contentType).send(await this.registry.metrics()));
    app.post('/api/devices', async (req, reply) => {
      const b = req.body as { id?: unknown; namespace?: unknown; privateToken?: unknown } | undefined;
      if (typeof b?.id !== 'string') return reply.code(400).send({ code: 'FERRY_API_BAD_REQUEST', path: 'id', message: 'body must be {"id": "<device id>", "namespace"?: "<namespace>", "privateToken"?: "<owner private token>"}' });
      // With the owner's private token the device joins that owner's namespace (its readings feed the owner's
      // function state); only the owner can do that.
      let owner: string | undefined;
      if (b.privateToken !== undefined) {
        const o = this.functions.owners.authenticate(typeof b.privateToken === 'string' ? b.privateToken : '');
        if (!o.ok) return reply.code(401).send(o.error.toJSON());
        owner = o.value;
      }
      try {
        return await reply.code(201).send(this.devices.add(b.id, typeof b.namespace === 'string' ? b.namespace : undefined, Date.now(), owner));
      } catch (e) {
        if (e instanceof DeviceError) return reply.code(e.code === 'FERRY_DEVICE_EXISTS' ? 409 : 400).send({ code: e.code, message: e.message });
        throw e;
      }
    });
    app.get('/api/devices', async () => this.devices.list());
    app.get<{ Params: { kid: string; ev: string }; Querystring: { from?: string; to?: string } }>('/api/streams/:kid/:ev', async (req) => {
      const from = Number(req.query.from ?? 0);
      const to = Number(req.query.to ?? Number.MAX_SAFE_INTEGER);
      // A stream is one source's events: they are listed in (epoch, seq) order, never by a clock. `ts` (arrival
      // at the cloud) only selects the range: a message that waited in the re-order buffer, or was taken by
      // another worker, can arrive later than its successors.
      const points = await this.ingest.series.query(`${req.params.kid}/${req.params.ev}`, from, to);
      return [...points].sort((a, b) => a.ep - b.ep || a.sq - b.sq);
    });
    rulesRoutes(app, this.rules);
    functionRoutes(app, this.functions);
    scheduleRoutes(app, this.schedules, this.functions);
    // The rule API of a gateway behind NAT, through its control channel: /api/gateways/<id>/api/...
    app.route({
      method: ['GET', 'POST'], url: '/api/gateways/:gw/*',
      handler: async (req, reply) => {
        const { gw, '*': rest } = req.params as { gw: string; '*': string };
        try {
          const r = await this.gatewayRequest(gw, req.method as 'GET' | 'POST', `/${rest}`, req.body);
          return await reply.code(r.status).send(r.body);
        } catch (e) {
          return reply.code(504).send({ code: (e as { code?: string }).code ?? 'FERRY_CTL_TIMEOUT', message: (e as Error).message });
        }
      },
    });
    return app;
  }

  /** A request to a gateway's REST API over its control channel. */
  async gatewayRequest(gatewayId: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    if (this.control === undefined) throw new Error('the cloud service is not started');
    return this.control.request(gatewayId, { method, path, ...(body !== undefined && body !== null && { body }) });
  }

  private stopping = false;

  async stop(): Promise<void> {
    this.stopping = true;
    await this.scheduleTimer?.stop(); // before the runner, the database and Redis close under a run
    if (this.ticker !== undefined) clearInterval(this.ticker);
    await this.functions.runner.close();
    await this.http?.close();
    await this.intake?.endAsync().catch(() => undefined);
    await this.client?.endAsync().catch(() => undefined);
    const srv = this.brokerServer;
    if (srv !== undefined) await new Promise<void>((r) => { srv.close(() => r()); for (const s of this.sockets) s.destroy(); });
    const b = this.broker;
    if (b !== undefined) await new Promise<void>((r) => b.close(() => r()));
    this.db.close();
    this.ingestDb?.close();
    await this.fnRedis?.close().catch(() => undefined);
    await this.redis?.quit().catch(() => undefined);
  }
}

const utf8 = new TextEncoder();

/** An MQTT payload as bytes (mqtt.js and aedes hand over a Buffer, or a string for a string publish). */
const payloadBytes = (p: string | Uint8Array): Uint8Array => (typeof p === 'string' ? utf8.encode(p) : new Uint8Array(p));

/**
 * Disables Nagle's algorithm on the client's socket, on every (re)connect. MQTT is small request/response
 * packets; with Nagle and delayed ACKs a QoS 1 exchange waits ~40 ms (measured: 44 ms -> 0.9 ms round trip).
 */
function noDelay(client: MqttClient): MqttClient {
  const set = (): void => { (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true); };
  client.on('connect', set);
  set();
  return client;
}
