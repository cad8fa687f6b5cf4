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
import type { IngestEvent } from '../ingest/index.ts';
import { SqliteSubscriptionStore } from './callback-store.ts';
import { CallbackDispatcher, type CallbackOptions } from './callbacks.ts';
import type { SoHosting } from './hosting.ts';
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
  readonly log?: ((m: string) => void) | undefined;
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
  const mqtt = new SoMqttGate({ hosting: p.hosting, prefix: p.prefix, ownerOf: p.ownerOf, publish: p.publish, log: p.log });
  const callbacks = new CallbackDispatcher({ hosting: p.hosting, store: new SqliteSubscriptionStore(p.db), options: p.callbacks, log: p.log });
  const telemetry = new TelemetryFeed({ hosting: p.hosting, store: new SqliteMappingStore(p.db), ownerOf: p.ownerOf, log: p.log });
  mqtt.start();
  callbacks.start();
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
