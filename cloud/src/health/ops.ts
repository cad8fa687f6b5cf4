/**
 * @module The cloud's operations part (docs/operations.md): readiness checks, device liveness, the supervisor
 * with its incidents, latency metrics and the optional latency probe, behind one object the service wires
 * with a few lines and the health routes read.
 */
import type Database from 'better-sqlite3';
import { type Component, type ComponentStatus, SqliteIncidentStore, Supervisor, type SupervisorEvent, systemClock, type Clock } from '@ferry/base';
import {
  type EventLoopWatch,
  type HealthHistory,
  HealthRecorder,
  type ReadyCheck,
  type RecorderOptions,
  ruleJobComponents,
  type RulesHost,
} from '@ferry/rules-host';
import type { Registry } from 'prom-client';
import type { IngestEvent, IngestOutcome } from '../ingest/index.ts';
import { type Notify, safeNotify } from './events.ts';
import { DeviceLiveness, type DeviceHealth } from './liveness.ts';
import { OpsMetrics } from './metrics.ts';
import type { LatencyProbe, ProbeSummary } from './probe.ts';

export interface OpsParts {
  readonly db: Database.Database;
  readonly registry: Registry;
  readonly rules: RulesHost;
  readonly known: (id: string) => boolean;
  readonly ownerOf: (id: string) => string | undefined;
  /** Every registered device with its owner (devices never heard from since start are listed too). */
  readonly registered: () => readonly { readonly id: string; readonly owner?: string | undefined }[];
  /** Whether the cloud's own broker connection is up. */
  readonly brokerUp: () => boolean;
  /** Reaches the state store (SQLite, or Redis in scale-out); rejects or throws when it cannot. */
  readonly pingStore: () => void | Promise<void>;
  readonly rulesBacklog: () => number;
  readonly log: (m: string) => void;
  readonly notify?: Notify | undefined;
  readonly clock?: Clock;
  /** How often components are checked and devices judged, ms (default 1000). */
  readonly checkPeriodMs?: number;
  readonly liveness?: { readonly silenceFactor?: number; readonly minIntervalMs?: number } | undefined;
  /** The health history's file and retention, and the event-loop stall thresholds (@ferry/rules-host). */
  readonly historyPath?: RecorderOptions['historyPath'];
  readonly history?: RecorderOptions['history'];
  readonly eventLoop?: RecorderOptions['eventLoop'];
}

/** A store ping slower than this counts as unreachable. */
const PING_TIMEOUT_MS = 2000;

export class CloudOps {
  readonly liveness: DeviceLiveness;
  readonly supervisor: Supervisor;
  readonly incidents: SqliteIncidentStore;
  readonly metrics: OpsMetrics;
  probe: LatencyProbe | undefined;
  /** The health history and the event-loop watch (docs/operations.md, "Health history", "Event loop"). */
  readonly recorder: HealthRecorder;
  readonly #p: OpsParts;
  /** Set once the service finished starting (state recovered, broker linked, API listening). */
  #started = false;
  #lastReady = false;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(p: OpsParts) {
    this.#p = p;
    const clock = p.clock ?? systemClock;
    const notify = safeNotify(p.notify, p.log);
    // A supervisor event (a component failing, an event-loop stall) as the notifier's event.
    const emit = (e: SupervisorEvent): void => notify({ kind: e.kind, source: e.source, at: e.at, priority: e.priority, data: e.data });
    this.liveness = new DeviceLiveness({ clock, known: p.known, ownerOf: p.ownerOf, notify, ...p.liveness });
    this.incidents = new SqliteIncidentStore(p.db);
    this.supervisor = new Supervisor({
      clock,
      incidents: this.incidents,
      periodMs: p.checkPeriodMs ?? 1000,
      onEvent: emit,
    });
    this.supervisor.add(() => ruleJobComponents(p.rules));
    this.recorder = new HealthRecorder({
      historyPath: p.historyPath,
      history: p.history,
      eventLoop: p.eventLoop,
      periodMs: p.checkPeriodMs ?? 1000,
      now: () => clock.now(),
      ready: () => this.ready(),
      incidents: this.incidents,
      emit,
      log: p.log,
    });
    this.metrics = new OpsMetrics(p.registry, {
      rulesBacklog: p.rulesBacklog,
      devices: () => this.liveness.counts(),
      failing: () => this.supervisor.failing().length,
      ready: () => this.#lastReady,
    });
  }

  /** Supervises one more component (the MQTT link, ...). */
  supervise(c: Component): void {
    this.supervisor.add(c);
  }

  /** Every released event: liveness and gaps by device (a gateway's reading also for its sensor). */
  onEvent(e: IngestEvent): void {
    if (e.type === 'gap') this.liveness.gap(e.kid, e.to - e.from); // [from, to)
    if (e.type !== 'message') return;
    const at = Date.now();
    this.liveness.seen(e.kid, at);
    const d = e.message.claims['d'];
    const sensor =
      e.message.claims['ev'] === 'reading' && typeof d === 'object' && d !== null && !Array.isArray(d) ? (d as Record<string, unknown>)['device'] : undefined;
    if (typeof sensor === 'string' && sensor.length > 0 && sensor.length <= 64) this.liveness.seen(`${e.kid}/${sensor}`, at);
  }

  /** Every uplink outcome: the ingest latency histogram, and bad signatures by the device the topic names. */
  onIngest(topicKid: string | undefined, o: IngestOutcome, seconds: number): void {
    this.metrics.ingest.observe({ status: o.status }, seconds);
    if (topicKid !== undefined && o.error?.messageCode === 'FERRY_MSG_BAD_SIGNATURE') this.liveness.badSignature(topicKid);
  }

  start(): void {
    this.#started = true;
    this.supervisor.start();
    this.#sweeper = setInterval(() => this.liveness.sweep(), this.#p.checkPeriodMs ?? 1000);
    this.#sweeper.unref();
    this.recorder.start();
  }

  /** The health history, when the service keeps one. */
  get history(): HealthHistory | undefined {
    return this.recorder.history;
  }

  get eventLoop(): EventLoopWatch {
    return this.recorder.eventLoop;
  }

  async stop(): Promise<void> {
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    await this.recorder.stop();
    await this.supervisor.stop();
    await this.probe?.stop();
  }

  /** One check period's samples: readiness, each component up or down, the event loop's longest delay. */
  sample(): Promise<void> {
    return this.recorder.sample();
  }

  /** A latency-probe sample, ms (the probe calls it for each message back). */
  probeSample(ms: number): void {
    this.recorder.record([['probe.latency_ms', Math.round(ms * 1000) / 1000]]);
  }

  /** The readiness checks, each named (Kubernetes' /readyz?verbose lists them). */
  async ready(): Promise<{ ready: boolean; checks: ReadyCheck[] }> {
    const checks: ReadyCheck[] = [
      { name: 'started', ok: this.#started, ...(!this.#started && { detail: 'state recovery and start-up not finished' }) },
      { name: 'broker', ok: this.#p.brokerUp(), ...(!this.#p.brokerUp() && { detail: 'the MQTT link is down' }) },
      await this.#store(),
      ...this.supervisor.status(true).map((c) => ({ name: `component:${c.name}`, ok: c.ok, ...(c.message !== undefined && { detail: c.message }) })),
    ];
    this.#lastReady = checks.every((c) => c.ok);
    return { ready: this.#lastReady, checks };
  }

  components(): ComponentStatus[] {
    return this.supervisor.status();
  }

  /** The devices of `owner` (all without one): tracked ones with their liveness, the others offline and unseen. */
  devices(owner?: string): DeviceHealth[] {
    const tracked = this.liveness.list(owner);
    const have = new Set(tracked.map((d) => d.id));
    const unseen = this.#p
      .registered()
      .filter((d) => !have.has(d.id) && (owner === undefined || d.owner === owner))
      .map((d): DeviceHealth => ({ id: d.id, ...(d.owner !== undefined && { owner: d.owner }), online: false, messages: 0, gaps: 0, badSignatures: 0 }));
    return [...tracked, ...unseen].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  probeSummary(): ProbeSummary | { enabled: false } {
    return this.probe?.summary() ?? { enabled: false };
  }

  async #store(): Promise<ReadyCheck> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(() => this.#p.pingStore()),
        new Promise((_r, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS);
        }),
      ]);
      return { name: 'store', ok: true };
    } catch (e) {
      return { name: 'store', ok: false, detail: e instanceof Error ? e.message : String(e) };
    } finally {
      clearTimeout(timer);
    }
  }
}
