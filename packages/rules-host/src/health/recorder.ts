/**
 * @module What the cloud and the gateway both do with their health every check period (docs/operations.md,
 * "Health history" and "Event loop"): record readiness, each supervised component's up/down and the event
 * loop's longest delay in the health history, and turn an event-loop stall into an incident and a
 * `component.failing` event of `eventloop` (and its end into `component.recovered`). A stall is no component
 * a supervisor could restart: it is recorded and reported as one at once.
 */
import type { Incident, SupervisorEvent } from '@ferry/base';
import type { Readiness } from './probes.ts';
import { EventLoopWatch } from './eventloop.ts';
import { HealthHistory, type HistoryOptions } from './history.ts';

export interface RecorderOptions {
  /** The health history's SQLite file (none: no history is kept), and its retention. */
  readonly historyPath?: string | undefined;
  readonly history?: HistoryOptions | undefined;
  /** Event-loop stalls: a delay of `stallMs` or more (default 2000) is one, over after `quietMs` (default 10 000) without. */
  readonly eventLoop?: { readonly stallMs?: number; readonly quietMs?: number } | undefined;
  readonly periodMs: number;
  readonly now: () => number;
  readonly ready: () => Promise<Readiness>;
  readonly incidents: { record(i: Incident): unknown };
  /** Told of a stall and of its end. */
  readonly emit: (e: SupervisorEvent) => void;
  readonly log: (m: string) => void;
}

const COMPONENT = 'component:';

export class HealthRecorder {
  /** The health history, when one is kept. */
  readonly history: HealthHistory | undefined;
  readonly eventLoop: EventLoopWatch;
  readonly #o: RecorderOptions;
  #timer: NodeJS.Timeout | undefined;
  #sampling: Promise<void> | undefined;

  constructor(o: RecorderOptions) {
    this.#o = o;
    this.history = o.historyPath === undefined ? undefined : HealthHistory.open(o.historyPath, o.history);
    const stall = (kind: SupervisorEvent['kind'], ms: number, message: string): void => {
      const at = o.now();
      o.incidents.record({ at, component: 'eventloop', kind: kind === 'component.failing' ? 'failed' : 'recovered', attempt: 0, message });
      o.emit({ kind, source: 'eventloop', at, priority: kind === 'component.failing' ? 'high' : 'normal', data: { delayMs: ms } });
    };
    this.eventLoop = new EventLoopWatch({
      ...o.eventLoop,
      now: o.now,
      onStall: (ms) => stall('component.failing', ms, `the event loop stalled for ${ms} ms`),
      onRecovered: (ms) => stall('component.recovered', ms, `no stall since one of ${ms} ms`),
    });
  }

  /** Watches the event loop and samples every period. */
  start(): void {
    this.eventLoop.start();
    this.#timer = setInterval(() => {
      this.#sampling ??= this.sample().finally(() => {
        this.#sampling = undefined;
      });
    }, this.#o.periodMs);
    this.#timer.unref();
  }

  /** Stops sampling, waits for a sample under way, and closes the history. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#sampling;
    this.eventLoop.stop();
    this.history?.close();
  }

  /** One check period's samples: readiness, each component up or down, the event loop's longest delay. */
  async sample(): Promise<void> {
    const { ready, checks } = await this.#o.ready();
    const delay = this.eventLoop.sample();
    const samples: [string, number][] = [
      ['readyz', ready ? 1 : 0],
      ['eventloop.delay_ms', Math.round(delay * 10) / 10],
    ];
    for (const c of checks) if (c.name.startsWith(COMPONENT)) samples.push([`component.${c.name.slice(COMPONENT.length)}.up`, c.ok ? 1 : 0]);
    this.record(samples);
  }

  /** Records samples taken now, while started (a sample of a stopped service is dropped: the history is closed). */
  record(samples: Iterable<readonly [name: string, value: number]>): void {
    if (this.#timer === undefined) return;
    try {
      this.history?.record(this.#o.now(), samples);
    } catch (e) {
      this.#o.log(`health history: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
