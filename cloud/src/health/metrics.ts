/**
 * @module The cloud's latency histograms and health gauges on its Prometheus registry (docs/operations.md,
 * "Metrics"). The command round-trip histogram is observed by the part that sends commands (`observe(seconds,
 * outcome)`); the others are fed here. Device liveness is in gauges of bounded cardinality (counts by state);
 * per-device last seen is GET /api/v1/health/devices, not a label per device.
 */
import { Gauge, Histogram, type Registry } from 'prom-client';

/** Seconds, from a fraction of a millisecond (an in-process step) to 10 s (a command through a slow link). */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface GaugeSources {
  /** Released messages waiting for the rules. */
  readonly rulesBacklog: () => number;
  readonly devices: () => { online: number; offline: number };
  readonly failing: () => number;
  readonly ready: () => boolean;
}

export class OpsMetrics {
  readonly ingest: Histogram<'status'>;
  readonly ruleEvaluation: Histogram;
  readonly functionCall: Histogram<'outcome'>;
  /** For the commands work: observe each command's round trip (sent to acknowledged), by outcome. */
  readonly commandRoundTrip: Histogram<'outcome'>;
  readonly probe: Histogram;

  constructor(r: Registry, g: GaugeSources) {
    const histogram = <L extends string>(name: string, help: string, labelNames: L[] = []): Histogram<L> =>
      new Histogram<L>({ name, help, labelNames, buckets: BUCKETS, registers: [r] });
    this.ingest = histogram('ferry_cloud_ingest_seconds', 'Time to ingest one uplink message (verify to stored), by outcome', ['status']);
    this.ruleEvaluation = histogram('ferry_cloud_rule_evaluation_seconds', 'Time the rules took for one released message');
    this.functionCall = histogram('ferry_cloud_function_call_seconds', 'Time to run one function call in its runner, by outcome', ['outcome']);
    this.commandRoundTrip = histogram('ferry_cloud_command_round_trip_seconds', 'Time from sending a command to its acknowledgement, by outcome', ['outcome']);
    this.probe = histogram('ferry_cloud_probe_latency_seconds', 'End-to-end latency of the latency probe: MQTT, ingest, a rule, a subscriber');
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({
        name,
        help,
        registers: [r],
        collect() {
          this.set(read());
        },
      });
    };
    gauge('ferry_cloud_rules_backlog', 'Released messages waiting for the rules', g.rulesBacklog);
    gauge('ferry_cloud_components_failing', 'Supervised components failing now', g.failing);
    gauge('ferry_cloud_ready', '1 when /readyz answers 200', () => (g.ready() ? 1 : 0));
    new Gauge({
      name: 'ferry_cloud_devices',
      help: 'Tracked devices by liveness state',
      labelNames: ['state'],
      registers: [r],
      collect() {
        const c = g.devices();
        this.set({ state: 'online' }, c.online);
        this.set({ state: 'offline' }, c.offline);
      },
    });
  }
}

/** Seconds since `startMs` of performance.now(). */
export const secondsSince = (startMs: number): number => (performance.now() - startMs) / 1000;
