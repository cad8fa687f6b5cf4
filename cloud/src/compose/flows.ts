/**
 * @module Service objects' streams to and from the rest of the cloud, started in one call: MQTT in and out
 * (mqtt-gate.ts), HTTP callbacks (callbacks.ts) and device telemetry (telemetry.ts), all over the host's
 * seam (hosting.ts). docs/composite-streams.md, "MQTT", "HTTP callbacks" and "From devices".
 *
 * Wiring into the cloud service: `const flows = composeFlows({...})`, then
 * `this.soTopics = flows.mqtt` (the embedded broker asks it about the stream topics), `flows.feed(e)` in the
 * fan-out of released messages, `soSubscriptionRoutes(app, flows.callbacks, flows.telemetry)`
 * (api/so-subscriptions.ts) in the HTTP API, and `await flows.stop()` before the broker and the database close.
 */
import type Database from 'better-sqlite3';
import { Counter, type Registry } from 'prom-client';
import type { IngestEvent } from '../ingest/index.ts';
import { type Sealer, SqliteSubscriptionStore } from './callback-store.ts';
import { CallbackDispatcher, type CallbackOptions } from './callbacks.ts';
import type { HostedOutput, SoHosting } from './hosting.ts';
import { SoMqttGate } from './mqtt-gate.ts';
import { SqliteMappingStore, TelemetryFeed } from './telemetry.ts';

export interface FlowParts {
  readonly hosting: SoHosting;
  readonly prefix: string;
  /** The cloud's database (cloud.db): subscriptions and mappings live there. */
  readonly db: Database.Database;
  /** The owner of a registered device or gateway. */
  readonly ownerOf: (id: string) => string | undefined;
  /** A QoS 1 publish on the cloud's own MQTT connection. */
  readonly publish: (topic: string, payload: string) => void;
  readonly callbacks?: CallbackOptions | undefined;
  /**
   * Whose waiting rows (callbacks, telemetry) this process resumes, default 'embedded': scale-out workers
   * sharing cloud.db each give their stable id (CloudOptions.clientId).
   */
  readonly worker?: string | undefined;
  /** Sensor updates per second an owner feeds over MQTT (mqtt-gate.ts SO_MQTT_LIMITS by default). */
  readonly mqttInputRate?: { readonly perSecond: number; readonly burst: number } | undefined;
  /** Where the flows' counters are exported (`ferry_cloud_so_flow_total{flow, outcome}` on /metrics). */
  readonly registry?: Registry | undefined;
  readonly log?: ((m: string) => void) | undefined;
  /** Seals callback secrets at rest (callback-store.ts). */
  readonly sealer?: Sealer | undefined;
}

export interface Flows {
  readonly mqtt: SoMqttGate;
  readonly callbacks: CallbackDispatcher;
  readonly telemetry: TelemetryFeed;
  /** An ingest subscriber: released messages into the mapped streams. */
  feed(e: IngestEvent): void;
  stop(): Promise<void>;
}

export function composeFlows(p: FlowParts): Flows {
  const mqtt = new SoMqttGate({ hosting: p.hosting, prefix: p.prefix, ownerOf: p.ownerOf, publish: p.publish, log: p.log, inputRate: p.mqttInputRate });
  const options = { ...p.callbacks, ...(p.worker !== undefined && { worker: p.worker }) };
  const callbacks = new CallbackDispatcher({ hosting: p.hosting, store: new SqliteSubscriptionStore(p.db, p.sealer), options, log: p.log });
  const telemetry = new TelemetryFeed({ hosting: p.hosting, store: new SqliteMappingStore(p.db), ownerOf: p.ownerOf, worker: p.worker, log: p.log });
  mqtt.start();
  callbacks.start();
  telemetry.resume();
  if (p.registry !== undefined)
    new Counter({
      name: 'ferry_cloud_so_flow_total',
      help: "Service objects' streams to and from MQTT, HTTP callbacks and device telemetry, by flow and outcome",
      labelNames: ['flow', 'outcome'],
      registers: [p.registry],
      collect() {
        this.reset();
        for (const [flow, counters] of [
          ['mqtt', mqtt.counters],
          ['callbacks', callbacks.counters],
          ['telemetry', telemetry.counters],
        ] as const)
          for (const [outcome, n] of Object.entries(counters)) if (n > 0) this.inc({ flow, outcome }, n);
      },
    });
  return {
    mqtt,
    callbacks,
    telemetry,
    feed: (e) => telemetry.feed(e),
    async stop() {
      await Promise.all([mqtt.stop(), callbacks.stop(), telemetry.idle()]);
    },
  };
}

/**
 * The host's seam with the values of objects that moved to a gateway added to its listeners (they come up
 * through the gateway's outbox, compose/move.ts onGatewayValue), so MQTT subscribers and HTTP callbacks see a
 * stream's values wherever it is computed.
 */
export function withGatewayValues(host: SoHosting, mover: { onGatewayValue(l: (v: HostedOutput) => void): () => void }): SoHosting {
  return {
    push: (...a) => host.push(...a),
    mayRead: (...a) => host.mayRead(...a),
    moveOut: (...a) => host.moveOut(...a),
    moveIn: (...a) => host.moveIn(...a),
    onOutput(listener) {
      const a = host.onOutput(listener);
      const b = mover.onGatewayValue(listener);
      return () => {
        a();
        b();
      };
    },
  };
}
