/**
 * @module The gateway's operations part (docs/operations.md): `/healthz` and `/readyz` (broker link up, the
 * outbox reachable, start-up finished, no component failing), a supervisor restarting a failed edge rule job,
 * a source that went down (a BLE scanner, a serial port) and the MQTT link, with incidents kept in
 * `<data_dir>/health.db`, latency histograms, and `GET /api/health` (reachable by the cloud over the control
 * channel). Like the cloud it keeps a health history in `<data_dir>/health-history.db` (readiness, each
 * component up or down, the event loop's delay; `GET /api/v1/health/history`) and records an event-loop stall
 * as an incident and a supervisor event of `eventloop` (@ferry/rules-host HealthRecorder).
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Gauge, Histogram, type Registry } from 'prom-client';
import { type Clock, SqliteIncidentStore, Supervisor, type SupervisorEvent, systemClock } from '@ferry/base';
import {
  HealthRecorder,
  historyAnswer,
  type HistoryOptions,
  probeRoutes,
  type ReadyCheck,
  type RecorderOptions,
  ruleJobComponents,
  type RulesHost,
} from '@ferry/rules-host';
import type { MqttClient } from 'mqtt';
import type { Source, SourceSink } from '../sources/types.ts';

export interface GatewayOpsParts {
  readonly dataDir: string;
  readonly registry: Registry;
  readonly rules: RulesHost;
  readonly sources: readonly Source[];
  readonly sink: SourceSink;
  readonly mqtt: () => MqttClient;
  /** Reaches the outbox database; throws when it cannot. */
  readonly pingStore: () => void;
  /** Whether a request may see reasons and component names (it carries the API token, or there is none). */
  readonly detailed: (req: FastifyRequest) => boolean;
  readonly log: (m: string) => void;
  /** Told when restarts keep failing and when the component recovers (the notifier, wired by its owner). */
  readonly notify?: ((e: SupervisorEvent) => void) | undefined;
  readonly checkPeriodMs?: number;
  readonly clock?: Clock;
  /** The health history's retention and series cap (default: the cloud's). */
  readonly history?: HistoryOptions | undefined;
  /** Event-loop stalls: a delay of `stallMs` or more (default 2000) is one, over after `quietMs` (default 10 000) without. */
  readonly eventLoop?: RecorderOptions['eventLoop'];
}

/** The health history's file in the data directory. */
export const HISTORY_FILE = 'health-history.db';

/** Seconds, from a fraction of a millisecond to 10 s. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class GatewayOps {
  readonly supervisor: Supervisor;
  readonly incidents: SqliteIncidentStore;
  /** A source's reading to its signed message committed in the outbox. */
  readonly store: Histogram;
  readonly ruleEvaluation: Histogram;
  /** For the commands work: observe each command's round trip, by outcome. */
  readonly commandRoundTrip: Histogram<'outcome'>;
  /** The health history and the event-loop watch. */
  readonly recorder: HealthRecorder;
  readonly #p: GatewayOpsParts;
  readonly #db: Database.Database;
  #started = false;

  constructor(p: GatewayOpsParts) {
    this.#p = p;
    this.#db = new Database(join(p.dataDir, 'health.db'));
    this.#db.pragma('journal_mode = WAL');
    this.incidents = new SqliteIncidentStore(this.#db);
    const clock = p.clock ?? systemClock;
    const onEvent = (e: SupervisorEvent): void => {
      p.log(`${e.kind}: ${e.source}`);
      p.notify?.(e);
    };
    this.supervisor = new Supervisor({ clock, incidents: this.incidents, periodMs: p.checkPeriodMs ?? 1000, onEvent });
    this.supervisor.add(() => ruleJobComponents(p.rules));
    this.supervisor.add(() => p.sources.map((s) => sourceComponent(s, p.sink)));
    this.supervisor.add({
      name: 'mqtt',
      check: () => (p.mqtt().connected ? undefined : 'the MQTT uplink is down'),
      // mqtt.js reconnects by itself every second (forcing it would cut a connection being made): the
      // supervisor records the outage and escalates when it lasts.
      restart: () => undefined,
    });
    this.recorder = new HealthRecorder({
      historyPath: join(p.dataDir, HISTORY_FILE),
      history: p.history,
      eventLoop: p.eventLoop,
      periodMs: p.checkPeriodMs ?? 1000,
      now: () => clock.now(),
      ready: () => this.ready(),
      incidents: this.incidents,
      emit: onEvent,
      log: p.log,
    });
    const r = p.registry;
    this.store = new Histogram({
      name: 'ferry_gateway_reading_seconds',
      help: 'A reading to its signed message committed in the outbox',
      buckets: BUCKETS,
      registers: [r],
    });
    this.ruleEvaluation = new Histogram({
      name: 'ferry_gateway_rule_evaluation_seconds',
      help: 'Time the edge rules took for one input',
      buckets: BUCKETS,
      registers: [r],
    });
    this.commandRoundTrip = new Histogram({
      name: 'ferry_gateway_command_round_trip_seconds',
      help: 'Time from sending a command to its acknowledgement, by outcome',
      labelNames: ['outcome'],
      buckets: BUCKETS,
      registers: [r],
    });
    const supervisor = this.supervisor;
    new Gauge({
      name: 'ferry_gateway_components_failing',
      help: 'Supervised components failing now',
      registers: [r],
      collect() {
        this.set(supervisor.failing().length);
      },
    });
  }

  /** Runs `f` and observes how long it took into `h`. */
  timed<T>(h: Histogram, f: () => T): T {
    const t0 = performance.now();
    try {
      return f();
    } finally {
      h.observe((performance.now() - t0) / 1000);
    }
  }

  routes(app: FastifyInstance): void {
    probeRoutes(app, { ready: () => this.ready(), detailed: this.#p.detailed });
    app.get('/api/health', async () => ({ ...(await this.ready()), components: this.supervisor.status(), incidents: this.incidents.list(20) }));
    // The cloud's route and answer (docs/operations.md, "Health history"), behind the API token like every /api route.
    app.get('/api/v1/health/history', async (req) => historyAnswer(this.recorder.history, req.query, Date.now(), 'gateway'));
  }

  async ready(): Promise<{ ready: boolean; checks: ReadyCheck[] }> {
    const checks: ReadyCheck[] = [
      { name: 'started', ok: this.#started, ...(!this.#started && { detail: 'start-up not finished' }) },
      { name: 'broker', ok: this.#p.mqtt().connected, ...(!this.#p.mqtt().connected && { detail: 'the MQTT uplink is down' }) },
      this.#store(),
      ...this.supervisor.status(true).map((c) => ({ name: `component:${c.name}`, ok: c.ok, ...(c.message !== undefined && { detail: c.message }) })),
    ];
    return { ready: checks.every((c) => c.ok), checks };
  }

  start(): void {
    this.#started = true;
    this.supervisor.start();
    this.recorder.start();
  }

  async stop(): Promise<void> {
    await this.recorder.stop();
    await this.supervisor.stop();
    this.#db.close();
  }

  #store(): ReadyCheck {
    try {
      this.#p.pingStore();
      return { name: 'store', ok: true };
    } catch (e) {
      return { name: 'store', ok: false, detail: e instanceof Error ? e.message : String(e) };
    }
  }
}

/** A source is failing while it reports itself down; a restart stops and starts it again. */
function sourceComponent(s: Source, sink: SourceSink): { name: string; check(): string | undefined; restart(): Promise<void> } {
  return {
    name: `source:${s.name}`,
    check: () => (s.health().up ? undefined : `${s.name} is down`),
    restart: async () => {
      await s.stop();
      await s.start(sink);
    },
  };
}
