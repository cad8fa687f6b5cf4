/**
 * @module The gateway daemon: sources (BLE, serial) -> readings signed by the gateway (or board messages
 * forwarded unchanged, so signatures stay end-to-end) -> edge rules -> MQTT uplink with store-and-forward.
 * Serves /health, /metrics (Prometheus) and the rule REST API. Nothing a source or a rule does can take
 * it down: problems are counted and logged.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { peek, type Json } from '@ferry/message';
import { answerErrors, RulesHost, rulesRoutes } from '@ferry/rules-host';
import { serveControl } from '@ferry/mqtt-rest';
import { mqttPassword } from '@ferry/message/node';
import { Outbox, OutboxFullError } from '../uplink/outbox.ts';
import { Uplink } from '../uplink/uplink.ts';
import type { Reading, Source, SourceProblem, SourceSink } from '../sources/types.ts';
import { bearerMatches, requireBearer, tokenMatches } from './api-auth.ts';
import { GatewayOps, type GatewayOpsParts } from '../health/ops.ts';
import { daemonGauges } from './gauges.ts';
import type { SupervisorEvent } from '@ferry/base';
import { apiToken, gatewayKey, uplinkTls, type GatewayConfig } from './config.ts';
import type { GatewayErrorCode } from '../uplink/errors.ts';
import { GatewaySigner } from './signer.ts';
import { SqliteReplayWindow } from './control-replay.ts';
import { BoardSource } from '../serial/board-source.ts';
import { CommandRelay } from './commands.ts';
import { GatewayCompose } from '../compose/edge.ts';
import { composeRoutes } from '../compose/routes.ts';
import { GatewayDashboard } from '../dashboard/dashboard.ts';

export interface DaemonDeps {
  /** Sources to run (built from the config by buildSources, or injected by tests). */
  readonly sources: readonly Source[];
  readonly log?: (level: 'info' | 'warn' | 'error', msg: string, extra?: Record<string, unknown>) => void;
  /** Told when a supervised component keeps failing and when it recovers (docs/operations.md). */
  readonly notify?: (e: SupervisorEvent) => void;
  /** How often supervised components are checked and the health history sampled, ms (default 1000). */
  readonly checkPeriodMs?: number;
  /** Event-loop stall thresholds (docs/operations.md, "Event loop"; defaults 2000 and 10 000 ms). */
  readonly eventLoop?: GatewayOpsParts['eventLoop'];
}

/** MQTT-safe topic segment for a device id (MACs keep their colons; '+', '#', '/' and spaces go). */
export const topicSegment = (s: string): string => s.replace(/[+#/\s]/g, '_');

export class GatewayDaemon {
  readonly cfg: GatewayConfig;
  readonly signer: GatewaySigner;
  readonly outbox: Outbox;
  readonly uplink: Uplink;
  readonly rules: RulesHost;
  /** Composite streams hosted here (docs/composite-streams.md, "On the gateway"); set by start() unless compose.enabled is false. */
  compose: GatewayCompose | undefined;
  readonly registry = new Registry();
  /** Probes, the supervisor and its incidents, latency histograms (docs/operations.md). */
  readonly ops: GatewayOps;
  private readonly sources: readonly Source[];
  private readonly log: NonNullable<DaemonDeps['log']>;
  private api: FastifyInstance | undefined;
  private stopControl: (() => Promise<void>) | undefined;
  private readonly controlReplay: SqliteReplayWindow;
  /** Signed commands for the serial boards, forwarded unchanged and queued while a board is away. */
  readonly commands: CommandRelay;
  /** The small web dashboard (docs/gateway.md, "Dashboard"): sessions, the pages and what they read. */
  readonly dashboard: GatewayDashboard;
  private readonly readings: Counter;
  private readonly problems: Counter;
  private readonly forwarded: Counter;
  private readonly ruleOutputs: Counter;
  private readonly refused: Counter;
  /** Why the last write was refused, until a write is stored again (health shows it; logged once per change). */
  private refusing: RefusedReason | undefined;

  /** The API's bearer token (api.token_file), if it has one. */
  readonly #apiToken: string | undefined;

  constructor(cfg: GatewayConfig, deps: DaemonDeps) {
    this.cfg = cfg;
    this.sources = deps.sources;
    this.log = deps.log ?? ((level, msg, extra) => console[level === 'info' ? 'log' : level](`[${level}] ${msg}${extra ? ` ${JSON.stringify(extra)}` : ''}`));
    // The outbox holds signed readings and the epoch counter: the daemon's alone (docs/gateway.md, "Files").
    mkdirSync(cfg.gateway.data_dir, { recursive: true, mode: 0o700 });
    chmodSync(cfg.gateway.data_dir, 0o700);
    this.#apiToken = apiToken(cfg); // read (and checked) before anything starts
    const token = this.#apiToken;
    this.dashboard = new GatewayDashboard({
      gatewayId: cfg.gateway.id,
      tokenMatches: token === undefined ? undefined : (given) => tokenMatches(given, token),
    });
    this.signer = new GatewaySigner(cfg.gateway.id, gatewayKey(cfg), GatewaySigner.nextEpoch(join(cfg.gateway.data_dir, 'state.db')));
    this.controlReplay = new SqliteReplayWindow(join(cfg.gateway.data_dir, 'control-replay.db'), cfg.control.replay_window);
    const b = cfg.uplink.buffer;
    this.outbox = new Outbox({
      path: join(cfg.gateway.data_dir, 'outbox.db'),
      maxRows: b.max_rows,
      maxBytes: b.max_bytes,
      policy: b.policy,
      synchronous: b.synchronous,
    });
    const tls = uplinkTls(cfg);
    this.uplink = new Uplink({
      url: cfg.uplink.url,
      gatewayId: cfg.gateway.id,
      prefix: cfg.uplink.topic_prefix,
      outbox: this.outbox,
      inflight: cfg.uplink.inflight,
      maxRate: cfg.uplink.max_rate,
      // The cloud's broker knows the gateway as its id, with a password derived from the gateway key; a
      // configured user name or password (another broker) replaces them.
      username: cfg.uplink.username ?? cfg.gateway.id,
      password: cfg.uplink.password ?? mqttPassword(gatewayKey(cfg), cfg.gateway.id),
      ...(tls !== undefined && { tls }),
      onError: (e) => this.log('warn', `uplink: ${e.message}`),
    });
    this.commands = new CommandRelay({
      path: join(cfg.gateway.data_dir, 'commands.db'),
      client: this.uplink.mqtt,
      prefix: cfg.uplink.topic_prefix,
      boards: this.sources.filter((s): s is BoardSource => s instanceof BoardSource),
      maxQueued: cfg.commands.max_queued,
      problem: (p) => this.sink.problem(p),
    });
    this.rules = new RulesHost({
      runtime: `gateway:${cfg.gateway.id}`,
      publish: (topic, payload) => this.publishRuleOutput(topic, payload),
      onError: (e) => this.log('error', `rule engine: ${e.message}`),
    });
    const r = this.registry;
    collectDefaultMetrics({ register: r, prefix: 'ferry_gateway_process_' });
    this.readings = new Counter({ name: 'ferry_gateway_readings_total', help: 'Readings signed and queued, by decoder', labelNames: ['kind'], registers: [r] });
    this.problems = new Counter({ name: 'ferry_gateway_problems_total', help: 'Input problems by catalog code', labelNames: ['code'], registers: [r] });
    this.forwarded = new Counter({ name: 'ferry_gateway_forwarded_total', help: 'Board-signed messages forwarded unchanged', registers: [r] });
    this.refused = new Counter({
      name: 'ferry_gateway_refused_total',
      help: 'Readings, board messages and rule outputs that could not be stored (outbox full under refuse-new, disk full, I/O error), by reason',
      labelNames: ['reason'],
      registers: [r],
    });
    this.ruleOutputs = new Counter({ name: 'ferry_gateway_rule_outputs_total', help: 'Edge rule outputs published', registers: [r] });
    daemonGauges(r, { outbox: this.outbox, uplink: this.uplink, sources: this.sources, commands: this.commands, rules: this.rules });
    this.ops = new GatewayOps({
      dataDir: cfg.gateway.data_dir,
      registry: r,
      rules: this.rules,
      sources: this.sources,
      sink: this.sink,
      mqtt: () => this.uplink.mqtt,
      pingStore: () => this.outbox.fileBytes(),
      detailed: (req) => bearerMatches(req, this.#apiToken),
      log: (m) => this.log('warn', m),
      notify: deps.notify,
      ...(deps.checkPeriodMs !== undefined && { checkPeriodMs: deps.checkPeriodMs }),
      eventLoop: deps.eventLoop,
    });
  }

  private topic(...parts: string[]): string {
    return [this.cfg.uplink.topic_prefix, ...parts].join('/');
  }

  /** The sink every source writes to. */
  readonly sink: SourceSink = {
    reading: (r: Reading) => this.onReading(r),
    signed: (token: Uint8Array, from: string) => this.onSigned(token, from),
    problem: (p: SourceProblem) => {
      this.problems.inc({ code: p.code });
      this.log('warn', `${p.code}: ${p.message}`, p.device === undefined ? undefined : { device: p.device });
    },
  };

  private onReading(r: Reading): void {
    const data: Record<string, Json> = { device: r.device, kind: r.kind, ...r.values, ...(r.meta && { meta: { ...r.meta } }) };
    // The input id is the message's (kid, ep, sq): the cloud derives the same id from the header, which is
    // what lets a rule move between them without losing or double-counting a reading.
    const inputId = `${this.signer.kid}/${this.signer.epoch}/${this.signer.nextSeq}`;
    const topic = this.topic('up', this.cfg.gateway.id, r.kind, topicSegment(r.device));
    const stored = this.ops.timed(this.ops.store, () => this.store(topic, new TextEncoder().encode(this.signer.sign('reading', data, r.atMs)), r.device));
    if (!stored) return;
    this.readings.inc({ kind: r.kind });
    this.dashboard.readings.record(r);
    this.ops.timed(this.ops.ruleEvaluation, () => this.rules.input(topic, { device: r.device, kind: r.kind, ...r.values }, r.atMs, inputId));
    this.compose?.reading(r);
  }

  private onSigned(token: Uint8Array, from: string): void {
    const h = peek(token);
    if (!h.ok) {
      this.sink.problem({ code: h.error.code, message: `from ${from}: ${h.error.message}`, device: from });
      return;
    }
    // Forwarded byte for byte: the board's signature is checked end to end by the cloud.
    if (!this.store(this.topic('up', topicSegment(h.value.kid), 'msg'), token, from)) return;
    this.forwarded.inc();
  }

  private publishRuleOutput(topic: string, payload: unknown): void {
    const inputId = `${this.signer.kid}/${this.signer.epoch}/${this.signer.nextSeq}`;
    const now = Date.now();
    const token = this.signer.sign('rule', { topic, out: payload as Json }, now);
    // The cloud's broker lets a gateway publish only in its own space (docs/security.md, "MQTT"): an output for
    // another topic goes on `<p>/up/<gw>/rule`, its signed claims naming the topic, and the cloud feeds it to
    // its rules under that topic and relays it there. Queued on the topic itself, the broker would refuse it
    // by closing the connection, and the outbox would resend it forever ahead of every later reading.
    const own = this.topic('up', this.cfg.gateway.id, '');
    if (!this.store(topic.startsWith(own) ? topic : this.topic('up', this.cfg.gateway.id, 'rule'), new TextEncoder().encode(token))) return;
    this.ruleOutputs.inc();
    // Pipelines compose through topics: the broker brings this output to cloud jobs; local jobs that
    // consume the topic get it here, with the same message id the cloud derives, so a stage can move
    // between gateway and cloud without losing or double-counting. Re-input is asynchronous (a chain of
    // stages never blocks the event loop in one turn) and bounded in depth: the engine refuses a rule that
    // feeds itself, but a loop can still close through the cloud or a rule moved in later.
    const depth = this.reinputDepth + 1;
    if (depth > MAX_REINPUT_DEPTH) {
      this.sink.problem({
        code: 'FERRY_GW_RULE_DEPTH',
        message: `rule output on ${topic} not fed back: ${MAX_REINPUT_DEPTH} stages deep already (a loop between rules?)`,
      });
      return;
    }
    setImmediate(() => {
      this.reinputDepth = depth;
      try {
        this.rules.input(topic, payload, now, inputId);
      } finally {
        this.reinputDepth = 0;
      }
    });
  }

  /** How many rule stages deep the input being processed is (0: a reading from a source). */
  private reinputDepth = 0;

  /**
   * Commits a signed message to the outbox. A write that cannot be stored (the outbox is full under
   * `refuse-new`, the disk is full, an I/O error) is refused here, in one place: counted by reason, reported
   * as a problem when the reason changes, shown by /health, and never thrown into a source's data handler
   * (where it would be an uncaught exception). Its sequence number stays unused: the cloud releases the gap
   * after its re-order timeout (docs/gateway.md, "When the buffer is full").
   */
  private store(topic: string, payload: Uint8Array, device?: string): boolean {
    try {
      this.uplink.send(topic, payload);
      if (this.refusing !== undefined) this.log('info', `outbox: writes accepted again after ${this.refusing}`);
      this.refusing = undefined;
      return true;
    } catch (e) {
      const reason = refusedReason(e);
      this.refused.inc({ reason });
      if (this.refusing !== reason) {
        this.refusing = reason;
        this.sink.problem({
          code: reason === 'outbox_full' ? 'FERRY_GW_OUTBOX_FULL' : 'FERRY_GW_OUTBOX_WRITE',
          message: `refusing writes (${reason}): ${(e as Error).message}`,
          ...(device !== undefined && { device }),
        });
      }
      return false;
    }
  }

  health(): {
    status: 'ok' | 'degraded';
    gateway: string;
    epoch: number;
    refusing?: RefusedReason;
    uplink: ReturnType<Uplink['stats']>;
    outbox: ReturnType<Outbox['stats']>;
    sources: ReturnType<Source['health']>[];
  } {
    const sources = this.sources.map((s) => s.health());
    const degraded = !this.uplink.connected || sources.some((s) => !s.up) || this.refusing !== undefined;
    return {
      status: degraded ? 'degraded' : 'ok',
      gateway: this.cfg.gateway.id,
      epoch: this.signer.epoch,
      ...(this.refusing !== undefined && { refusing: this.refusing }),
      uplink: this.uplink.stats(),
      outbox: this.outbox.stats(),
      sources,
    };
  }

  /** Starts the API, the rules timer, installs configured rules, then the sources. Returns the API address. */
  async start(): Promise<string> {
    for (const rule of this.cfg.rules) {
      try {
        const info = this.rules.engine.install(rule);
        this.rules.engine.start(info.jobId);
        this.log('info', `rule ${info.jobId} (${info.jobType}) running`);
      } catch (e) {
        this.log('error', `configured rule refused: ${(e as Error).message}`);
      }
    }
    this.rules.start();
    const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
    answerErrors(app, (m) => this.log('error', `api: ${m}`));
    const token = this.#apiToken;
    await this.dashboard.prepare(app);
    if (token !== undefined) requireBearer(app, token, this.dashboard);
    this.ops.routes(app);
    app.get('/health', async (_req, reply) => {
      const h = this.health();
      return reply.code(h.status === 'ok' ? 200 : 503).send(h);
    });
    app.get('/metrics', async (_req, reply) => reply.type(this.registry.contentType).send(await this.registry.metrics()));
    rulesRoutes(app, this.rules);
    await this.dashboard.routes(app, {
      gatewayId: this.cfg.gateway.id,
      sources: () => this.sources.map((s) => s.health()),
      rules: this.rules,
      incidents: (limit) => this.ops.incidents.list(limit),
      components: () => this.ops.supervisor.status(),
      ready: () => this.ops.ready(),
      health: () => this.health(),
    });
    if (this.cfg.compose.enabled) {
      this.compose = await GatewayCompose.open({
        dataDir: this.cfg.gateway.data_dir,
        config: this.cfg.compose,
        up: (d) =>
          this.store(
            this.topic('up', this.cfg.gateway.id, 'so'),
            new TextEncoder().encode(this.signer.sign('so', d as unknown as Record<string, Json>, Date.now())),
          ),
        problem: (code, message) => this.sink.problem({ code, message }),
      });
      composeRoutes(app, this.compose.host);
    }
    this.api = app;
    const address = await app.listen({ host: this.cfg.api.host, port: this.cfg.api.port });
    // The same routes, reachable by the cloud over the uplink's MQTT connection (works behind NAT), MACed
    // with the control key derived from the gateway key; served ids are remembered in the data directory.
    serveControl({
      client: this.uplink.mqtt,
      app,
      ...(token !== undefined && { headers: { authorization: `Bearer ${token}` } }),
      gatewayId: this.cfg.gateway.id,
      gatewayKey: gatewayKey(this.cfg),
      replay: this.controlReplay,
      maxAgeMs: this.cfg.control.max_age_s * 1000,
      prefix: this.cfg.uplink.topic_prefix,
      onRefused: (why) => this.sink.problem({ code: why, message: 'control request refused' }),
    }).then(
      (stop) => {
        this.stopControl = stop;
      },
      (e: Error) => this.log('warn', `control channel: ${e.message}`),
    );
    await this.commands.start(); // before the sources, so it sees every board come up
    for (const s of this.sources) {
      try {
        await s.start(this.sink);
      } catch (e) {
        this.sink.problem({ code: 'FERRY_GW_SOURCE_START' satisfies GatewayErrorCode, message: `${s.name}: ${(e as Error).message}` });
      }
    }
    this.ops.start();
    this.log('info', `gateway ${this.cfg.gateway.id} epoch ${this.signer.epoch} up; API ${address}`);
    return address;
  }

  async stop(): Promise<void> {
    await this.ops.stop(); // no restart of what is being stopped
    for (const s of this.sources) await s.stop().catch(() => undefined);
    this.rules.stop();
    await this.stopControl?.();
    await this.api?.close();
    await this.uplink.close().catch(() => undefined);
    this.commands.close();
    this.outbox.close();
    this.controlReplay.close();
    this.compose?.close();
  }
}

/** Rule outputs fed back to local rules at most this many stages deep (docs/gateway.md, "Edge rules"). */
export const MAX_REINPUT_DEPTH = 8;

export type RefusedReason = 'outbox_full' | 'disk_full' | 'io_error';

/** SQLite reports a full disk as SQLITE_FULL (sqlite.org/rescode.html#full); other storage failures are I/O errors. */
function refusedReason(e: unknown): RefusedReason {
  if (e instanceof OutboxFullError) return 'outbox_full';
  return (e as { code?: unknown }).code === 'SQLITE_FULL' ? 'disk_full' : 'io_error';
}
