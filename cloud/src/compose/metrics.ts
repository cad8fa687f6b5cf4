/**
 * @module Per-stream metrics of the composite-stream host on the service's /metrics registry (prom-client):
 * outputs computed, updates dropped as not newer, filtered, errors, and a histogram of the time one sensor
 * update took to propagate. Labels are `so` and `stream`; the first COMPOSE_METRIC_STREAMS streams seen get
 * their own, every later one counts under `so="_other", stream="_other"`, so an owner creating many streams
 * cannot grow the scrape without bound (docs/limits.md).
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Counters } from '@ferry/compose';
import type { ComposeHost } from './host.ts';

/** Streams labelled on their own; the rest share one label pair. */
export const COMPOSE_METRIC_STREAMS = 500;
const OTHER = { so: '_other', stream: '_other' } as const;

type Label = { readonly so: string; readonly stream: string };

export class StreamLabels {
  readonly #own = new Map<string, Label>();
  readonly #cap: number;
  constructor(cap: number) {
    this.#cap = cap;
  }
  of(so: string, stream: string): Label {
    const key = `${so}/${stream}`;
    const hit = this.#own.get(key);
    if (hit !== undefined) return hit;
    if (this.#own.size >= this.#cap) return OTHER;
    const l = { so, stream };
    this.#own.set(key, l);
    return l;
  }
}

const FIELDS: readonly [keyof Counters, string, string][] = [
  ['computed', 'ferry_compose_computed_total', 'outputs computed (accepted updates of a simple stream) per stream'],
  ['droppedNotNewer', 'ferry_compose_dropped_not_newer_total', 'updates dropped as not newer than the stream’s last output'],
  ['filtered', 'ferry_compose_filtered_total', 'updates a pre-filter or post-filter dropped'],
  ['errors', 'ferry_compose_errors_total', 'run-time errors (budget, types, runners) and invalid updates per stream'],
];

export function composeMetrics(registry: Registry, host: ComposeHost, cap = COMPOSE_METRIC_STREAMS): void {
  const labels = new StreamLabels(cap);
  for (const [field, name, help] of FIELDS) {
    new Counter({
      name,
      help,
      labelNames: ['so', 'stream'],
      registers: [registry],
      // Set at each scrape to the engine's own totals, as the ingest counters are (api/health.ts).
      collect() {
        this.reset();
        for (const id of host.installed.keys()) {
          for (const stream of host.engine.so(id)?.streams.keys() ?? []) {
            const n = host.engine.counters(id, stream)?.[field] ?? 0;
            if (n > 0) this.inc(labels.of(id, stream), n);
          }
        }
      },
    });
  }
  const latency = new Histogram({
    name: 'ferry_compose_propagation_seconds',
    help: 'time from a sensor update to the end of its propagation (every reachable stream computed and stored), by the stream fed',
    labelNames: ['so', 'stream'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  host.onPush((so, stream, r, ms) => {
    if (r.ok && r.value.outcome === 'accepted') latency.observe(labels.of(so, stream), ms / 1000);
  });
}
