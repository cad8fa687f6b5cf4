/**
 * @module The embedded MQTT broker: aedes in this process, on a TCP port. The broker is in this process, so
 * the uplink is taken inside it, before the publisher's PUBACK (aedes `authorizePublish`): a message is
 * acknowledged to the board or gateway only once the cloud recorded it, with no second MQTT hop. Every client
 * authenticates at CONNECT and each publish and subscription is checked against the ACL policy
 * (mqtt-auth/acl.ts; docs/cloud.md, "MQTT").
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { TokenBuckets } from '@ferry/base';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { type Access, allowed, type Identity, type ObjectTopics } from '../mqtt-auth/acl.ts';
import { isRefusal, type MqttDirectory, type Refusal } from '../mqtt-auth/directory.ts';
import { guardPacketSize, MQTT_LIMITS, type MqttLimits } from './mqtt-limits.ts';
import type { TlsOptions } from './options.ts';
import type { Payload } from './topic-table.ts';

export interface EmbeddedBrokerOptions {
  readonly host: string;
  /** Default 1883; 0 picks a free port. */
  readonly port?: number | undefined;
  /**
   * Takes a client's publish before it is acknowledged: a promise for a message the cloud takes here (the
   * PUBACK waits for it; a rejection refuses the publish; 'drop' acknowledges it but delivers it to nobody),
   * undefined for one that goes on to subscribers.
   */
  readonly take: (topic: string, payload: Payload) => Promise<undefined | 'drop'> | undefined;
  /**
   * Who may connect and what each may do. Undefined: anyone, anything; only the ingest benchmark's baseline
   * runs so (CloudOptions.mqttAuth), to measure what authentication costs.
   */
  readonly auth?: BrokerAuth | undefined;
  /** Which topics a client may retain on (others are delivered, not retained). */
  readonly retainAllowed: (topic: string) => boolean;
  readonly limits?: Partial<MqttLimits> | undefined;
  /** Told of every refusal (an oversized packet, a dropped retain flag), for the log and counters. */
  readonly onRefused?: ((why: string) => void) | undefined;
  /** Speak mqtts (MQTT over TLS) instead of MQTT over TCP (CloudOptions.tls). */
  readonly tls?: TlsOptions | undefined;
}

/** The CN of the client certificate each TLS connection presented and the CA verified, by connection. */
const verifiedNames = new WeakMap<object, string>();

/**
 * Who a client is by its TLS client certificate (CloudOptions.tls.requestClientCert): the CN of a certificate
 * the CA verified, undefined when the client presented none (or the broker is not on TLS). For aedes hooks:
 * `peerIdentity(client)` in `authenticate` accepts a gateway by certificate in place of a password.
 */
export function peerIdentity(client: { readonly conn?: unknown } | null | undefined): string | undefined {
  const conn = client?.conn;
  return typeof conn === 'object' && conn !== null ? verifiedNames.get(conn) : undefined;
}

/**
 * A TLS server that hands each connection to `handle` once its handshake is done. Asked for client certificates,
 * it records the CN of a verified one (peerIdentity), closes a connection whose certificate the CA did not sign,
 * and lets one without a certificate through (it has its password to show).
 */
function tlsServer(t: TlsOptions, refused: (why: string) => void, handle: (socket: TLSSocket) => void): Server {
  const ask = t.requestClientCert === true;
  const server = createTlsServer(
    {
      cert: t.cert,
      key: t.key,
      ...(ask && { ca: t.ca, requestCert: true }),
      rejectUnauthorized: false, // decided below: a client without a certificate is not refused here
      handshakeTimeout: 10_000,
      noDelay: true,
    },
    (socket) => {
      if (ask) {
        const cn = socket.getPeerCertificate().subject?.CN;
        if (socket.authorized && typeof cn === 'string') verifiedNames.set(socket, cn);
        else if (socket.authorized || Object.keys(socket.getPeerCertificate()).length > 0) {
          refused(`client certificate refused: ${socket.authorizationError?.toString() ?? 'no CN'}`);
          socket.destroy();
          return;
        }
      }
      handle(socket);
    },
  );
  server.on('tlsClientError', (e) => refused(`TLS handshake failed: ${e.message}`));
  return server;
}

export interface BrokerAuth {
  authenticate(clientId: string, username: string | undefined, password: string | undefined): Identity | Refusal;
  /** The identity of a registered device or gateway as it is now (a gateway's boards change). */
  identityOf(id: string): Identity | undefined;
  allowed(who: Identity, access: Access, topic: string): boolean;
  /** Service objects' stream topics, decided per message instead of by `allowed` (mqtt-auth/acl.ts ObjectTopics). */
  readonly objects?: ObjectTopics | undefined;
}

/** ACL decisions remembered per connection, at most (docs/limits.md): past it the memory starts over. */
export const MAX_ACL_DECISIONS = 1024;

interface Session {
  who: Identity;
  /** Remembered decisions by topic, one map per access (no key to build per message). */
  readonly publish: Map<string, boolean>;
  readonly subscribe: Map<string, boolean>;
}

export class EmbeddedBroker {
  readonly url: string;
  readonly #broker: Aedes;
  readonly #server: Server;
  readonly #sockets: Set<Socket>;
  readonly #sessions: WeakMap<Client, Session>;
  readonly #auth: BrokerAuth | undefined;

  private constructor(url: string, broker: Aedes, server: Server, sockets: Set<Socket>, sessions: WeakMap<Client, Session>, auth: BrokerAuth | undefined) {
    this.url = url;
    this.#broker = broker;
    this.#server = server;
    this.#sockets = sockets;
    this.#sessions = sessions;
    this.#auth = auth;
  }

  /** The connected clients by id (aedes keeps them; its typings do not declare the map). */
  #clients(): Record<string, Client> {
    return (this.#broker as unknown as { clients: Record<string, Client> }).clients;
  }

  /** Client events for command delivery (commands/presence.ts): `subscribe`, `clientDisconnect`, and `ack` (a client's PUBACK). */
  get events(): Pick<Aedes, 'on'> {
    return this.#broker;
  }

  /** Closes the connection of identity `id` (a device removed from the registry). */
  disconnect(id: string): void {
    this.#clients()[id]?.close();
  }

  /**
   * Tells `w` when a device or gateway (not a worker) connects and when its connection ends (device
   * liveness, docs/operations.md); the id is the identity the broker authenticated.
   */
  watchClients(w: { connected(id: string): void; disconnected(id: string): void }): void {
    const idOf = (c: Client): string | undefined => {
      const who = this.#sessions.get(c)?.who;
      return who === undefined || who.kind === 'worker' ? undefined : who.id;
    };
    this.#broker.on('client', (c: Client) => {
      const id = idOf(c);
      if (id !== undefined) w.connected(id);
    });
    this.#broker.on('clientDisconnect', (c: Client) => {
      const id = idOf(c);
      if (id !== undefined) w.disconnected(id);
    });
  }

  /** Re-reads the identity of every connected device and gateway (a board attached or removed), forgetting their ACL decisions. */
  refresh(): void {
    if (this.#auth === undefined) return;
    for (const c of Object.values(this.#clients())) {
      const s = this.#sessions.get(c);
      if (s === undefined || s.who.kind === 'worker') continue;
      const who = this.#auth.identityOf(s.who.id);
      if (who === undefined) c.close();
      else {
        s.who = who;
        s.publish.clear();
        s.subscribe.clear();
      }
    }
  }

  static async start(o: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
    const limits = { ...MQTT_LIMITS, ...o.limits };
    const refused = o.onRefused ?? (() => undefined);
    const broker = await Aedes.createBroker();
    // aedes speaks MQTT 3.1 and 3.1.1 (protocol levels 3 and 4) and answers any other level with CONNACK return
    // code 1, "unacceptable protocol version" (MQTT 3.1.1 §3.2.2.3): the client hears only that, so the log says
    // why and what to do (docs/cloud.md, "MQTT versions").
    broker.on('connackSent', (connack: { returnCode?: number }) => {
      if (connack.returnCode === 1)
        refused(
          'refused a client speaking a protocol level other than MQTT 3.1/3.1.1 (MQTT 5?): the embedded broker speaks 3.1.1; connect with protocol version 4, or run the cloud on an external MQTT 5 broker (--mqtt)',
        );
    });
    const auth = o.auth;
    const sessions = new WeakMap<Client, Session>();
    broker.authenticate = (c, username, password, callback) => {
      if (auth === undefined) {
        callback(null, true);
        return;
      }
      // A gateway's client certificate, verified against the CA at the handshake, stands for its password
      // (docs/cloud.md "TLS"): its CN names the gateway, and the client id must be that name too.
      const cn = peerIdentity(c as { conn?: unknown });
      const byCert = cn !== undefined && c.id === cn && (username === undefined || username === cn) ? auth.identityOf(cn) : undefined;
      const who = byCert?.kind === 'gateway' ? byCert : auth.authenticate(c.id, username, password?.toString('utf8'));
      if (isRefusal(who)) {
        refused(`connection refused: ${who.why}`);
        callback(Object.assign(new Error(who.why), { returnCode: who.returnCode }) as AuthenticateError, false);
        return;
      }
      sessions.set(c, { who, publish: new Map(), subscribe: new Map() });
      callback(null, true);
    };
    /** One ACL decision per (connection, topic), remembered: the data path pays a map lookup, not the policy. */
    const decide = (c: Client, access: Access, topic: string): boolean => {
      if (auth === undefined) return true;
      const s = sessions.get(c);
      if (s === undefined) return false;
      const memory = access === 'publish' ? s.publish : s.subscribe;
      let d = memory.get(topic);
      if (d === undefined) {
        d = auth.allowed(s.who, access, topic);
        if (memory.size >= MAX_ACL_DECISIONS) memory.clear();
        memory.set(topic, d);
      }
      return d;
    };
    broker.authorizeSubscribe = (c, sub, callback) => {
      const who = sessions.get(c)?.who;
      if (who !== undefined && auth?.objects?.owns('subscribe', sub.topic) === true) {
        auth.objects.subscribe(who, sub.topic).then(
          (ok) => {
            if (!ok) refused(`subscription to ${sub.topic} refused for ${c.id}`);
            callback(null, ok ? sub : null);
          },
          () => callback(null, null),
        );
        return;
      }
      if (decide(c, 'subscribe', sub.topic)) {
        callback(null, sub);
        return;
      }
      refused(`subscription to ${sub.topic} refused for ${c.id}`);
      callback(null, null); // negated: SUBACK return code 128 for this filter, the connection stays
    };
    // Payloads of uplink messages ingest refused: acknowledged, delivered to nobody (see `go` below).
    const dropped = new WeakSet<object>();
    broker.authorizeForward = (c, packet) => {
      if (typeof packet.payload === 'object' && dropped.has(packet.payload)) return null;
      const who = c === null ? undefined : sessions.get(c)?.who;
      return who !== undefined && auth?.objects?.owns('subscribe', packet.topic) === true && !auth.objects.deliverable(who, packet.topic) ? null : packet;
    };
    const buckets = new TokenBuckets({ maxEntries: 100_000 });
    const retained = new Set<string>();
    broker.authorizePublish = (c, packet, callback) => {
      // A publish outside the client's grants closes its connection without a PUBACK (aedes does that for an
      // error here; MQTT 3.1.1 §3.3.5 allows either that or a positive acknowledgement): the message is then
      // neither acknowledged nor delivered, so the sender still holds it and a misconfigured client notices.
      // The '$SYS/' topics are nobody's grant.
      const objects = c === null || !sessions.has(c) ? undefined : auth?.objects?.owns('publish', packet.topic) === true ? auth.objects : undefined;
      if (c !== null && objects === undefined && !decide(c, 'publish', packet.topic)) {
        refused(`publish on ${packet.topic} refused for ${c.id}`);
        callback(new Error(`not authorized to publish on ${packet.topic}`));
        return;
      }
      if (c !== null && packet.retain) {
        // Retain is for the few topics the design keeps a last value on (namespace state, gateway status),
        // and bounded in number: everything else is delivered live only, so retained data cannot pile up.
        if (!o.retainAllowed(packet.topic) || (!retained.has(packet.topic) && retained.size >= limits.maxRetained)) {
          refused(`retain refused on ${packet.topic}`);
          packet.retain = false;
        } else if (packet.payload.length === 0) retained.delete(packet.topic);
        else retained.add(packet.topic);
      }
      const go = (): void => {
        const who = c === null ? undefined : sessions.get(c)?.who;
        const taken =
          c === null
            ? undefined
            : objects !== undefined && who !== undefined
              ? objects.take(who, packet.topic, packet.payload)
              : o.take(packet.topic, packet.payload);
        if (taken === undefined) {
          callback(null);
          return;
        }
        // Ingest refused the message for good (bad signature, topic and kid disagree...): it is acknowledged
        // (sending it again would be refused again, forever) but no subscriber gets it. Refusing it here
        // instead would close the connection and the client would send it again on every reconnect.
        taken.then(
          (verdict) => {
            if (verdict === 'drop' && typeof packet.payload === 'object') dropped.add(packet.payload);
            callback(null);
          },
          (e: unknown) => callback(e instanceof Error ? e : new Error(String(e))),
        );
      };
      // A publish rate per connection: past it the connection's publish waits (aedes reads no more from it
      // meanwhile), so one flooding client slows itself, not the broker.
      const id = c?.id;
      if (id === undefined || buckets.take(id, limits.publishesPerSecond, limits.publishBurst)) {
        go();
        return;
      }
      const retry = (): void => {
        if (buckets.take(id, limits.publishesPerSecond, limits.publishBurst)) go();
        else setTimeout(retry, Math.ceil(1000 / limits.publishesPerSecond));
      };
      setTimeout(retry, Math.ceil(1000 / limits.publishesPerSecond));
    };
    // noDelay: MQTT exchanges are small request/response packets; Nagle plus delayed ACKs adds ~40 ms per hop.
    const sockets = new Set<Socket>();
    const serve = (socket: Socket): void => {
      guardPacketSize(socket, limits.maxPacketBytes, refused);
      broker.handle(socket);
    };
    // With TLS the guard reads the decrypted stream; 'connection' still gives the TCP socket, closed on close().
    const server = o.tls === undefined ? createServer({ noDelay: true }, serve) : tlsServer(o.tls, refused, serve);
    server.on('connection', (s) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(o.port ?? 1883, o.host, () => r()));
    const a = server.address();
    return new EmbeddedBroker(
      `${o.tls === undefined ? 'mqtt' : 'mqtts'}://${o.host}:${typeof a === 'object' && a !== null ? a.port : 1883}`,
      broker,
      server,
      sockets,
      sessions,
      auth,
    );
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => {
      this.#server.close(() => r());
      for (const s of this.#sockets) s.destroy();
    });
    await new Promise<void>((r) => this.#broker.close(() => r()));
  }
}

/**
 * The embedded broker's authentication and ACL (docs/security.md "MQTT"): the directory's identities, the one
 * policy of mqtt-auth/acl.ts, and service objects' stream topics decided by `objects()` when there is one.
 * A removed device is cut off at once, and a gateway whose boards changed gets its new grants.
 */
export function embeddedAuth(o: {
  readonly directory: MqttDirectory;
  readonly devices: { watch(w: { added: () => void; removed: (id: string) => void }): void };
  readonly prefix: string;
  readonly broker: () => EmbeddedBroker | undefined;
  readonly objects: () => ObjectTopics | undefined;
}): BrokerAuth {
  o.devices.watch({
    added: () => o.broker()?.refresh(),
    removed: (id) => {
      o.broker()?.disconnect(id);
      o.broker()?.refresh();
    },
  });
  return {
    authenticate: (c, u, p) => o.directory.authenticate(c, u, p),
    identityOf: (id) => o.directory.identityOf(id),
    allowed: (who, access, topic) => allowed(who, access, topic, o.prefix),
    objects: {
      owns: (a, t) => o.objects()?.owns(a, t) === true,
      subscribe: (w, t) => o.objects()?.subscribe(w, t) ?? Promise.resolve(false),
      take: (w, t, p) => o.objects()?.take(w, t, p) ?? Promise.resolve('drop'),
      deliverable: (w, t) => o.objects()?.deliverable(w, t) === true,
    },
  };
}
