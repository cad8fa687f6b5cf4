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
import { peek, type Json } from '@ferry/message';
import { RulesHost, httpTransport, rulesRoutes } from '@ferry/rules-api';
import { ControlClient } from '@ferry/control';
import { DeviceError, DeviceRegistry, SqliteDeviceStore, loadMasterKey } from '../devices/registry.ts';
import { Ingest, type IngestEvent } from '../ingest/index.ts';
import { Redis } from 'ioredis';
import type { Message } from '@ferry/message';
import { RedisReorderStore, RedisTimeSeries, SqliteReorderStore, SqliteTimeSeries, openSqlite } from '../storage/index.ts';
import { FunctionService, InProcessRunner, PoolRunner } from '../functions/index.ts';
import { functionRoutes, functionTopics } from './functions-api.ts';

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
   * SQLite durability in embedded mode: NORMAL (default) survives a crash of the process; FULL also survives
   * a power cut (an fsync per commit), at about half the throughput. mqtt.js hands QoS 1 messages over one at
   * a time and acknowledges each before the next, so commits cannot be grouped at this layer.
   */
  readonly synchronous?: 'FULL' | 'NORMAL';
  readonly log?: (msg: string) => void;
  /** Where functions run: 'pool' (default: worker threads with a CPU watchdog, for untrusted modules) or 'in-process'. */
  readonly functionRunner?: 'pool' | 'in-process';
}

export class CloudService {
  readonly opts: CloudOptions;
  readonly db: Database.Database;
  readonly devices: DeviceRegistry;
  readonly ingest: Ingest;
  readonly rules: RulesHost;
  readonly functions: FunctionService;
  readonly registry = new Registry();
  private broker: Aedes | undefined;
  private brokerServer: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private client: MqttClient | undefined;
  private http: FastifyInstance | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private control: ControlClient | undefined;
  private readonly redis: Redis | undefined;
  private readonly ingestDb: Database.Database | undefined;
  /** MQTT topic of each message waiting in the re-order buffer, by id, so rules see the topic it came on. */
  private readonly topics = new Map<string, string>();

  constructor(opts: CloudOptions) {
    this.opts = opts;
    mkdirSync(opts.dataDir, { recursive: true });
    this.db = new Database(join(opts.dataDir, 'cloud.db'));
    this.db.pragma('journal_mode = WAL');
    this.devices = new DeviceRegistry(new SqliteDeviceStore(this.db), loadMasterKey(join(opts.dataDir, 'master.key')));
    if (opts.redisUrl !== undefined) {
      this.redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 3 });
      this.ingest = new Ingest({
        keys: this.devices.keys,
        reorder: new RedisReorderStore<Message>({ redis: this.redis }),
        series: new RedisTimeSeries({ redis: this.redis }),
        onError: (e) => this.log(`ingest: ${e.message}`),
      });
    } else {
      const store = openSqlite({ dir: opts.dataDir, file: 'ingest.sqlite', synchronous: opts.synchronous ?? 'NORMAL' });
      this.ingestDb = store;
      this.ingest = new Ingest({
        keys: this.devices.keys,
        reorder: new SqliteReorderStore<Message>({ db: store }),
        series: new SqliteTimeSeries(store),
        onError: (e) => this.log(`ingest: ${e.message}`),
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
    this.functions = new FunctionService({ runner: opts.functionRunner === 'in-process' ? new InProcessRunner() : new PoolRunner({ size: 2, timeoutMs: 1000 }) });
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
    const ns = this.devices.namespaceOf(e.kid);
    if (ns === undefined) return;
    const key = `temp.${e.kid}`;
    const value = `${t} ${e.message.claims.iat * 1000}`;
    let m = this.namespaceState.get(ns);
    if (m === undefined) this.namespaceState.set(ns, (m = new Map()));
    m.set(key, value);
    this.client?.publish(`${this.prefix}/ns/${ns}/state/${key}`, value, { qos: 1, retain: true });
  }

  private onEvent(e: IngestEvent): void {
    if (e.type !== 'message') return;
    this.projectTelemetry(e);
    const id = `${e.kid}/${e.ep}/${e.sq}`;
    const topic = this.topics.get(id);
    this.topics.delete(id);
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
    let mqttUrl = this.opts.mqttUrl;
    if (mqttUrl === undefined) {
      this.broker = await Aedes.createBroker();
      // noDelay: MQTT exchanges are small request/response packets; Nagle plus delayed ACKs adds ~40 ms per hop.
      const srv = createServer({ noDelay: true }, this.broker.handle);
      srv.on('connection', (s) => { this.sockets.add(s); s.once('close', () => this.sockets.delete(s)); });
      this.brokerServer = srv;
      await new Promise<void>((r) => srv.listen(this.opts.mqttPort ?? 1883, host, () => r()));
      const a = srv.address();
      mqttUrl = `mqtt://${host}:${typeof a === 'object' && a !== null ? a.port : 1883}`;
    }
    const client = noDelay(await mqtt.connectAsync(mqttUrl, { clientId: `ferry-cloud-${process.pid}-${Math.random().toString(36).slice(2, 8)}`, protocolVersion: this.opts.shared === true ? 5 : 4, reconnectPeriod: 1000 }));
    this.client = client;
    this.control = new ControlClient(client, this.devices.keys, this.prefix);
    // Acknowledge a message only after ingest recorded it (mqtt.js acks when this callback is called).
    const upPrefix = `${this.prefix}/up/`;
    client.handleMessage = (packet, done) => {
      if (!packet.topic.startsWith(upPrefix)) { done(); return; } // control replies, function calls: handled on 'message'
      const payload = packet.payload;
      const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : new Uint8Array(payload);
      this.onMqtt(packet.topic, bytes).then(() => done(), () => done());
    };
    await functionTopics(client, this.functions, this.prefix);
    const filter = `${this.prefix}/up/#`;
    await client.subscribeAsync(this.opts.shared === true ? `$share/ferry/${filter}` : filter, { qos: 1 });
    this.ticker = setInterval(() => { void this.ingest.tick(); this.rules.tick(); }, 250);
    this.ticker.unref();
    this.http = this.api();
    const httpUrl = await this.http.listen({ host, port: this.opts.httpPort ?? 8080 });
    this.log(`ferry cloud: MQTT ${mqttUrl}${this.broker ? ' (embedded)' : ''}, HTTP ${httpUrl}, data ${this.opts.dataDir}`);
    return { mqttUrl, httpUrl };
  }

  private async onMqtt(topic: string, bytes: Uint8Array): Promise<void> {
    const h = peek(bytes); // header only, to remember the topic until the message is released
    const key = h.ok ? `${h.value.kid}/${h.value.ep}/${h.value.sq}` : undefined;
    if (key !== undefined) this.topics.set(key, topic);
    const out = await this.ingest.ingest(bytes);
    if (out.status !== 'accepted' && key !== undefined) this.topics.delete(key);
    if (this.topics.size > 100_000) this.topics.clear(); // bound: only matters if releases never come
  }

  private api(): FastifyInstance {
    const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
    app.get('/health', async () => ({ status: 'ok', mqtt: this.client?.connected === true, ingest: this.ingest.counters() }));
    app.get('/metrics', async (_r, reply) => reply.type(this.registry.contentType).send(await this.registry.metrics()));
    app.post('/api/devices', async (req, reply) => {
      const b = req.body as { id?: unknown; namespace?: unknown } | undefined;
      if (typeof b?.id !== 'string') return reply.code(400).send({ code: 'FERRY_API_BAD_REQUEST', path: 'id', message: 'body must be {"id": "<device id>", "namespace"?: "<namespace>"}' });
      try {
        return await reply.code(201).send(this.devices.add(b.id, typeof b.namespace === 'string' ? b.namespace : undefined));
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

  async stop(): Promise<void> {
    if (this.ticker !== undefined) clearInterval(this.ticker);
    await this.functions.runner.close();
    await this.http?.close();
    await this.client?.endAsync().catch(() => undefined);
    const srv = this.brokerServer;
    if (srv !== undefined) await new Promise<void>((r) => { srv.close(() => r()); for (const s of this.sockets) s.destroy(); });
    const b = this.broker;
    if (b !== undefined) await new Promise<void>((r) => b.close(() => r()));
    this.db.close();
    this.ingestDb?.close();
    await this.redis?.quit().catch(() => undefined);
  }
}

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
