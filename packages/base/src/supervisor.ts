/**
 * @module A supervisor for the long-lived parts of a daemon (docs/operations.md, "Automatic recovery"): every
 * period it asks each component whether it is healthy; a failing one is restarted with capped exponential
 * back-off (backoff.ts), every step is recorded as an incident, and a component still failing after
 * `escalateAfter` restarts raises one `component.failing` event (one `component.recovered` when it comes
 * back). Pure: time through the injected Clock, storage through the IncidentSink port.
 */
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import type { Clock, Timer } from './clock.ts';

export interface Component {
  /** Unique among the supervisor's components: `rule:<jobId>`, `mqtt`, `source:<name>`. */
  readonly name: string;
  /** undefined when healthy, else why it is not (a thrown error counts as failing, its message as the why). */
  check(): string | undefined;
  /** Brings it back; may throw or reject (recorded as a failed restart, tried again after back-off). */
  restart(): void | Promise<void>;
}

export type IncidentKind = 'failed' | 'restarted' | 'restart-failed' | 'escalated' | 'recovered';

export interface Incident {
  readonly at: number;
  readonly component: string;
  readonly kind: IncidentKind;
  /** Restarts tried so far in this failure. */
  readonly attempt: number;
  readonly message: string;
}

export interface IncidentSink {
  record(incident: Incident): void;
}

export interface SupervisorEvent {
  readonly kind: 'component.failing' | 'component.recovered';
  readonly source: string;
  readonly at: number;
  readonly priority: 'high' | 'normal';
  readonly data: Record<string, unknown>;
}

export interface ComponentStatus {
  readonly name: string;
  readonly ok: boolean;
  /** While failing: since when (wall clock), restarts tried, why. */
  readonly since?: number;
  readonly attempts?: number;
  readonly message?: string;
}

export interface SupervisorOptions {
  readonly clock: Clock;
  readonly incidents: IncidentSink;
  /** How often components are checked, ms (default 1000). */
  readonly periodMs?: number;
  /** Delay between restarts of one component (default 500 ms doubling up to 30 s). */
  readonly backoff?: BackoffOptions;
  /** Restarts after which a still-failing component raises `component.failing` (default 3). */
  readonly escalateAfter?: number;
  readonly onEvent?: (e: SupervisorEvent) => void;
}

interface Failing {
  readonly since: number;
  attempts: number;
  /** Monotonic time of the next restart allowed. */
  nextAt: number;
  escalated: boolean;
  message: string;
}

type Provider = () => Iterable<Component>;

export class Supervisor {
  readonly #o: SupervisorOptions;
  readonly #providers: Provider[] = [];
  readonly #failing = new Map<string, Failing>();
  #timer: Timer | undefined;
  #sweeping: Promise<void> | undefined;
  #sweeps = 0;

  constructor(o: SupervisorOptions) {
    this.#o = o;
  }

  /** The check period, ms. */
  get periodMs(): number {
    return this.#o.periodMs ?? 1000;
  }

  /** Supervises one component, or every component a provider lists at each sweep (rule jobs come and go). */
  add(c: Component | Provider): void {
    this.#providers.push(typeof c === 'function' ? c : () => [c]);
  }

  /** Sweeps completed so far (tests and benches wait on it instead of on time). */
  get sweeps(): number {
    return this.#sweeps;
  }

  start(): void {
    const loop = (): void => {
      this.#timer = this.#o.clock.setTimeout(() => {
        void this.sweep().finally(() => {
          if (this.#timer !== undefined) loop();
        });
      }, this.periodMs);
    };
    loop();
  }

  async stop(): Promise<void> {
    this.#timer?.cancel();
    this.#timer = undefined;
    await this.#sweeping;
  }

  /** One check of every component; restarts those due. Concurrent calls share the sweep under way. */
  sweep(): Promise<void> {
    this.#sweeping ??= this.#sweep().finally(() => {
      this.#sweeping = undefined;
      this.#sweeps++;
    });
    return this.#sweeping;
  }

  /**
   * Every component as of the last sweep; `live`: each checked now (readiness must not lag a period behind a
   * component that came back, or one that just failed).
   */
  status(live = false): ComponentStatus[] {
    return this.#components().map((c) => {
      const f = this.#failing.get(c.name);
      const why = live ? checkOf(c) : f?.message;
      if (live ? why === undefined : f === undefined) return { name: c.name, ok: true };
      return { name: c.name, ok: false, ...(f !== undefined && { since: f.since, attempts: f.attempts }), message: why ?? 'failing' };
    });
  }

  /** Names of the components failing at the last sweep. */
  failing(): string[] {
    return [...this.#failing.keys()];
  }

  #components(): Component[] {
    const seen = new Map<string, Component>();
    for (const p of this.#providers) for (const c of p()) seen.set(c.name, c);
    return [...seen.values()];
  }

  async #sweep(): Promise<void> {
    const components = this.#components();
    const present = new Set(components.map((c) => c.name));
    for (const name of this.#failing.keys()) if (!present.has(name)) this.#failing.delete(name); // removed meanwhile
    for (const c of components) await this.#one(c);
  }

  async #one(c: Component): Promise<void> {
    const { clock, incidents } = this.#o;
    const why = checkOf(c);
    let f = this.#failing.get(c.name);
    if (why === undefined) {
      if (f === undefined) return;
      this.#failing.delete(c.name);
      incidents.record({ at: clock.now(), component: c.name, kind: 'recovered', attempt: f.attempts, message: `healthy again after ${f.attempts} restart(s)` });
      if (f.escalated) this.#event('component.recovered', c.name, 'normal', { attempts: f.attempts, since: f.since });
      return;
    }
    if (f === undefined) {
      f = { since: clock.now(), attempts: 0, nextAt: clock.monotonic(), escalated: false, message: why };
      this.#failing.set(c.name, f);
      incidents.record({ at: f.since, component: c.name, kind: 'failed', attempt: 0, message: why });
    }
    f.message = why;
    // Failing again after its last restart, before any sweep saw it healthy: a crash loop, whose restarts
    // each pass the check right after them, escalates too.
    if (f.attempts >= (this.#o.escalateAfter ?? 3)) this.#escalate(c.name, f);
    if (clock.monotonic() < f.nextAt) return;
    f.attempts++;
    try {
      await c.restart();
      incidents.record({ at: clock.now(), component: c.name, kind: 'restarted', attempt: f.attempts, message: why });
    } catch (e) {
      f.message = e instanceof Error ? e.message : String(e);
      incidents.record({ at: clock.now(), component: c.name, kind: 'restart-failed', attempt: f.attempts, message: f.message });
    }
    f.nextAt = clock.monotonic() + backoffDelay(f.attempts - 1, this.#o.backoff);
    if (f.attempts >= (this.#o.escalateAfter ?? 3) && checkOf(c) !== undefined) this.#escalate(c.name, f);
  }

  #escalate(name: string, f: Failing): void {
    if (f.escalated) return;
    f.escalated = true;
    this.#o.incidents.record({ at: this.#o.clock.now(), component: name, kind: 'escalated', attempt: f.attempts, message: f.message });
    this.#event('component.failing', name, 'high', { attempts: f.attempts, since: f.since, message: f.message });
  }

  #event(kind: SupervisorEvent['kind'], source: string, priority: SupervisorEvent['priority'], data: Record<string, unknown>): void {
    try {
      this.#o.onEvent?.({ kind, source, at: this.#o.clock.now(), priority, data });
    } catch {
      // A notifier that throws must not stop supervision.
    }
  }
}

function checkOf(c: Component): string | undefined {
  try {
    return c.check();
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
