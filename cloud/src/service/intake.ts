/**
 * @module The cloud's one MQTT intake. Every message the cloud takes from MQTT, on whichever connection, goes
 * through one topic table (topic-table.ts) to its route: device uplink (uplink.ts), function calls (calls.ts)
 * and gateway control replies (control.ts). Embedded (no broker URL), an aedes broker runs in this process and
 * takes the uplink inside the broker, before the publisher's PUBACK (broker.ts). With an external broker the
 * uplink has a connection of its own, acknowledged to the broker after ingest, and N processes can split it
 * through a shared subscription. The cloud's main connection carries calls, control and what the cloud
 * publishes.
 */
import { rootCertificates } from 'node:tls';
import { noDelay } from '@ferry/mqtt-rest';
import mqtt, { type MqttClient } from 'mqtt';
import type { MqttCredential } from '../mqtt-auth/directory.ts';
import { type BrokerAuth, EmbeddedBroker } from './broker.ts';
import type { MqttLimits } from './mqtt-limits.ts';
import type { TlsOptions } from './options.ts';
import { TopicTable, type Payload } from './topic-table.ts';

export interface IntakeOptions {
  /** External broker URL (scale-out). Without it, an embedded aedes broker listens on `port`. */
  readonly mqttUrl?: string | undefined;
  readonly port?: number | undefined;
  readonly host: string;
  /** Subscribe to the uplink through a shared subscription (MQTT 5) so several cloud processes split it. */
  readonly shared?: boolean | undefined;
  /** A stable client id: the MQTT sessions then persist (see CloudOptions.clientId). */
  readonly clientId?: string | undefined;
  /** The topic prefix: which topics may be retained derives from it. */
  readonly prefix: string;
  /** Embedded broker limits (docs/limits.md). */
  readonly mqttLimits?: Partial<MqttLimits> | undefined;
  /** The embedded broker speaks mqtts with this (CloudOptions.tls). */
  readonly tls?: TlsOptions | undefined;
  /** CA an external mqtts:// broker is verified with (CloudOptions.mqttCa). */
  readonly mqttCa?: string | undefined;
  readonly log?: ((msg: string) => void) | undefined;
  /** The embedded broker's authentication and ACLs (undefined: none, the ingest benchmark's baseline only). */
  readonly auth?: BrokerAuth | undefined;
  /** The credential the cloud's own connections present (a worker's: docs/cloud.md, "MQTT"). */
  readonly credential?: MqttCredential | undefined;
}

export class Intake {
  readonly table = new TopicTable();
  readonly #o: IntakeOptions;
  #broker: EmbeddedBroker | undefined;
  #client: MqttClient | undefined;
  /** External broker: the connection that takes the uplink. */
  #uplink: MqttClient | undefined;

  constructor(o: IntakeOptions) {
    this.#o = o;
  }

  /** The cloud's main connection, once started. */
  get client(): MqttClient | undefined {
    return this.#client;
  }

  /** The embedded broker, once started (undefined with an external broker). */
  get broker(): EmbeddedBroker | undefined {
    return this.#broker;
  }

  get embedded(): boolean {
    return this.#o.mqttUrl === undefined;
  }

  publish(topic: string, payload: string, opts: { qos: 1; retain?: boolean }): void {
    this.#client?.publish(topic, payload, opts);
  }

  /** Starts the embedded broker (if any) and the connections; every route must be in the table. Returns the broker URL. */
  async start(): Promise<string> {
    const o = this.#o;
    const table = this.table;
    let url = o.mqttUrl;
    if (url === undefined) {
      // Retained: the last value of namespace state (the cloud publishes it) and each gateway's status (its will).
      this.#broker = await EmbeddedBroker.start({
        host: o.host,
        port: o.port,
        limits: o.mqttLimits,
        tls: o.tls,
        auth: o.auth,
        retainAllowed: (topic) => retainable(o.prefix, topic),
        onRefused: (why) => o.log?.(`mqtt: ${why}`),
        take: (topic, payload) => {
          const r = table.find(topic);
          // A route's void resolves to undefined: the cast adds no promise hop per message.
          return r?.ack === true ? (Promise.resolve(r.handle(topic, payload)) as Promise<undefined | 'drop'>) : undefined;
        },
      });
      url = this.#broker.url;
    }
    // With a stable id the session persists. Message handlers are installed before the connection is made:
    // a resumed session delivers its backlog right after CONNACK.
    // A worker's client id starts with its user name (the embedded broker binds the two).
    const stable = o.clientId !== undefined;
    const cred = o.credential;
    const base = o.clientId ?? `${cred === undefined ? 'ferry-cloud' : cred.username}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const connect = (suffix: string): MqttClient =>
      noDelay(
        mqtt.connect(url, {
          clientId: `${base}${suffix}`,
          ...(cred !== undefined && { username: cred.username, password: cred.password }),
          protocolVersion: o.shared === true || stable ? 5 : 4,
          reconnectPeriod: 1000,
          ...(stable && { clean: false, properties: { sessionExpiryInterval: 3600 } }),
          ...this.#tlsClient(),
        }),
      );
    const client = connect('');
    client.on('message', (topic, payload) => {
      const r = table.find(topic);
      if (r?.ack === false) void r.handle(topic, payload);
    });
    this.#client = client;
    await connected(client).catch((e: unknown) => {
      if (this.#broker === undefined || o.tls === undefined) throw e;
      throw new Error(
        `the cloud cannot verify its own mqtts broker (${(e as Error).message}): give the CA that signed the certificate (CloudOptions.tls.ca, --tls-ca)`,
        { cause: e },
      );
    });
    for (const r of table.routes()) if (r.subscribe) await client.subscribeAsync(r.filter, { qos: 1 });
    if (this.#broker === undefined) {
      // External broker: a message is acknowledged only after its route resolved (mqtt.js acks when `done` is
      // called), and mqtt.js hands them over one at a time. (Several uplink connections per process, to overlap
      // Redis round trips, stalled a share of the stream under load with Mosquitto 2.0 in our benchmark; run
      // more worker processes instead.)
      const up = connect('-in');
      up.handleMessage = (packet, done) => {
        const r = table.find(packet.topic);
        if (r?.ack !== true) {
          done();
          return;
        }
        // Not acknowledged when it failed (only while stopping): the broker sends it again.
        Promise.resolve(r.handle(packet.topic, packet.payload as Payload)).then(
          () => done(),
          () => undefined,
        );
      };
      this.#uplink = up;
      await connected(up);
      for (const r of table.routes()) if (r.ack) await up.subscribeAsync(o.shared === true ? `$share/ferry/${r.filter}` : r.filter, { qos: 1 });
    }
    return url;
  }

  /**
   * What the cloud's own connections verify the broker with. External: the chain against mqttCa (or the system
   * roots) and the name in the URL. Embedded with TLS: the chain against tls.ca, else the system roots and the
   * certificate file itself (a self-signed certificate, or a chain that ends in its root); the name is not
   * checked, since the connection goes to this process's own listening address, which the certificate need not
   * name (a wildcard --host).
   */
  #tlsClient(): { ca?: string; rejectUnauthorized?: true; checkServerIdentity?: () => undefined } {
    const o = this.#o;
    if (this.#broker === undefined) return o.mqttCa !== undefined ? { ca: o.mqttCa, rejectUnauthorized: true } : {};
    if (o.tls === undefined) return {};
    return { ca: o.tls.ca ?? [...rootCertificates, o.tls.cert].join('\n'), rejectUnauthorized: true, checkServerIdentity: () => undefined };
  }

  async stop(): Promise<void> {
    await this.#uplink?.endAsync().catch(() => undefined);
    await this.#client?.endAsync().catch(() => undefined);
    await this.#broker?.close();
  }
}

const connected = (c: MqttClient): Promise<void> =>
  new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });

/**
 * `<prefix>/ns/<namespace>/state/<key>`, `<prefix>/dn/<device>/state` (a device's signed state snapshot) and
 * `<prefix>/gw/<gateway>/status`: the topics that keep a last value.
 */
export function retainable(prefix: string, topic: string): boolean {
  if (!topic.startsWith(`${prefix}/`)) return false;
  const p = topic.slice(prefix.length + 1).split('/');
  if (p.length === 4) return p[0] === 'ns' && p[2] === 'state';
  return p.length === 3 && ((p[0] === 'gw' && p[2] === 'status') || (p[0] === 'dn' && p[2] === 'state'));
}
