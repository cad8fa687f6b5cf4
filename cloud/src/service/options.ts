/** @module The options of the cloud service (docs/cloud.md: the CLI flags map onto them). */
import { isLoopback } from '@ferry/base';
import type { HttpRates } from '../api/auth.ts';
import type { MqttLimits } from './mqtt-limits.ts';
import type { Clock } from '../functions/index.ts';
import type { ProjectionRule } from './projection.ts';
import type { Notify } from '../health/events.ts';
import type { HistoryOptions } from '@ferry/rules-host';
import type { ComposeHostLimits } from '../compose/host.ts';
import type { RetryPolicy } from '../notify/notifier.ts';
import type { CommandLimits } from '../commands/limits.ts';

export interface TlsOptions {
  readonly cert: string;
  readonly key: string;
  readonly ca?: string;
  readonly requestClientCert?: boolean;
}

export interface CloudOptions {
  readonly dataDir: string;
  /** External broker URL (scale-out). Without it, an embedded aedes broker listens on mqttPort. */
  readonly mqttUrl?: string;
  readonly mqttPort?: number;
  readonly httpPort?: number;
  /** Address the embedded MQTT broker listens on (default 127.0.0.1): boards on a LAN need a LAN address. */
  readonly host?: string;
  /**
   * Address the HTTP API listens on (default 127.0.0.1), apart from MQTT's, so exposing the broker to boards
   * does not expose the API.
   */
  readonly httpHost?: string;
  /**
   * Allow listening on an address other than loopback without TLS. Every byte then crosses the network in
   * clear, so it must be asked for explicitly (`--insecure`); without it (or `tls`) such an address is refused
   * at construction.
   */
  readonly insecure?: boolean;
  /**
   * TLS for both listeners (PEM contents; docs/cloud.md "TLS"): the embedded broker speaks mqtts and the HTTP
   * API https with `cert` (its chain after it) and `key`. `ca` is the CA client certificates must be signed by,
   * and what the cloud's own connection to its embedded broker trusts (else the system roots). With
   * `requestClientCert` MQTT clients are asked for a certificate: one signed by `ca` identifies the client by
   * its CN (broker.ts `peerIdentity`), one signed by anything else is refused, none leaves the client to the
   * password check.
   */
  readonly tls?: TlsOptions;
  /** CA (PEM) an external `mqtts://` broker (mqttUrl) is verified with, instead of the system roots. */
  readonly mqttCa?: string;
  /**
   * HTTP base URLs of other runtimes (another cloud's API) that rules may be moved to. Moves to a registered
   * gateway (`gateway:<id>`) need no entry; any other target is refused (FERRY_API_MOVE_TARGET).
   */
  readonly movePeers?: readonly string[];
  /**
   * The base URL gateways reach this cloud's HTTP API at (`https://cloud.example.org:8443`, a path prefix
   * allowed), when it is not the address an admin's request came to: behind a reverse proxy, NAT or another
   * name. A job moved back from a gateway is handed over there (docs/cloud.md "Moving a job back"). Without
   * it, the address of the admin's request (its Host header).
   */
  readonly publicUrl?: string;
  readonly topicPrefix?: string;
  /**
   * The cloud admin's credential (at least 32 characters). Without it FERRY_ADMIN_TOKEN, else the one kept in
   * `<dataDir>/admin.token` (0600), made at first start (docs/security.md).
   */
  readonly adminToken?: string;
  /** HTTP requests per second per credential and per anonymous address (api/auth.ts HTTP_RATES by default). */
  readonly httpRates?: HttpRates;
  /** Serve the web dashboard on the HTTP port (default true; docs/operations.md "Dashboard"). */
  readonly dashboard?: boolean;
  /** Subscribe through a shared subscription (MQTT 5) so several cloud processes split the stream. */
  readonly shared?: boolean;
  /**
   * Redis URL (scale-out): re-order state and time series live in Redis, one Lua script per message, so N
   * processes share the work. Without it they live in SQLite under dataDir (embedded).
   */
  readonly redisUrl?: string;
  /**
   * SQLite durability (the ingest file in embedded mode, and cloud.db: devices, owners, modules, namespace
   * state, schedules): NORMAL (default) survives a crash of the process; FULL also survives a power cut (an
   * fsync per commit), at about half the throughput. Embedded, the uplink messages of one event-loop turn share
   * one commit (each its own savepoint), and are acknowledged after it.
   */
  readonly synchronous?: 'FULL' | 'NORMAL';
  readonly log?: (msg: string) => void;
  /**
   * A stable id for this worker (scale-out). Its MQTT session then persists (clean start off, one hour of
   * session expiry), so messages the broker handed it and never saw acknowledged, and those queued for it
   * while it was down, come back when it restarts under the same id (kill -9, then systemd Restart=always).
   * Without it the id is random and the session ends with the connection.
   */
  readonly clientId?: string;
  /**
   * Flood limit per device (token bucket per verified kid, per process): beyond it a message is held back
   * (FERRY_INGEST_RATE_LIMITED; its acknowledgement waits until the bucket refills), which paces the sender;
   * nothing is dropped. Default 200/s with a burst of 1000, far above any sensor; `false` turns it off.
   */
  readonly deviceRate?: { readonly perSecond: number; readonly burst: number } | false;
  /** Embedded broker limits: largest packet, retained messages, publishes per connection (docs/limits.md). */
  readonly mqttLimits?: Partial<MqttLimits>;
  /** Where functions run: 'pool' (default: worker processes with a CPU watchdog and per-owner fairness, for untrusted modules; docs/functions.md "Sandbox") or 'in-process'. */
  readonly functionRunner?: 'pool' | 'in-process';
  /** How often this worker looks for due schedules (ms, default 1000); and the clock periods are counted on (tests). */
  readonly scheduleTickMs?: number;
  readonly scheduleClock?: Clock;
  /**
   * How readings become namespace state (projection.ts; docs/cloud.md "Namespace projection"). Default
   * DEFAULT_PROJECTIONS: `tel`.`t` -> `temp.<kid>` = "<celsius> <unix ms>". An empty list projects nothing.
   */
  readonly projections?: readonly ProjectionRule[];
  /**
   * The worker credential the cloud presents to its MQTT broker (CLI: FERRY_MQTT_USERNAME / FERRY_MQTT_PASSWORD).
   * With an external broker it is how this worker logs in; embedded it is accepted as a worker's besides the
   * random one the process makes for its own connection. A worker may publish and subscribe under the whole
   * prefix (docs/cloud.md, "MQTT").
   */
  readonly mqttUsername?: string;
  readonly mqttPassword?: string;
  /**
   * Mosquitto's dynamic-security admin credential (scale-out): the cloud then keeps Mosquitto's clients, roles
   * and ACLs in step with the device registry (mqtt-auth/dynsec.ts). CLI: FERRY_MQTT_DYNSEC_USERNAME /
   * FERRY_MQTT_DYNSEC_PASSWORD.
   */
  readonly mqttDynsec?: { readonly username: string; readonly password: string };
  /**
   * `false` turns MQTT authentication and ACLs off on the embedded broker. ONLY for the ingest benchmark's
   * same-run baseline (bench/ingest.ts), to measure what authentication costs; the CLI never sets it.
   */
  readonly mqttAuth?: false;
  /**
   * Operations (docs/operations.md): how often components are checked and devices judged (ms, default 1000);
   * the latency probe (off unless given: a device `ferry-probe` is registered, with no owner, and sends one
   * signed message every `periodMs`); who is told of devices going offline and components failing.
   */
  readonly health?: {
    readonly checkPeriodMs?: number;
    /** `alarmMs`: the built-in probe-latency alarm's threshold (default 1000; docs/operations.md "Alarms"). */
    readonly probe?: { readonly periodMs: number; readonly id?: string; readonly alarmMs?: number };
    readonly notify?: Notify;
    /** Offline after `silenceFactor` usual intervals of silence (default 3); intervals shorter than `minIntervalMs` (default 1000) count as it. */
    readonly liveness?: { readonly silenceFactor?: number; readonly minIntervalMs?: number };
    /** The health history's retention and series cap (docs/operations.md, "Health history"); `false`: keep none. */
    readonly history?: HistoryOptions | false;
    /** A delay of `stallMs` (default 2000) or more is an event-loop stall, over after `quietMs` (default 10 000) without. */
    readonly eventLoop?: { readonly stallMs?: number; readonly quietMs?: number };
  };
  /** Composite-stream bounds per owner: objects, sensor updates per second and burst (compose/host.ts COMPOSE_HOST_LIMITS). */
  readonly compose?: Partial<ComposeHostLimits>;
  /**
   * The notifier (docs/notifications.md): `allowPrivateAddresses` lets webhook and SMTP channels reach
   * loopback, private and link-local addresses (off by default: an owner's channel must not reach the cloud's
   * own network; CLI `--notify-allow-private`); the retry policy and the loop's period (tests).
   */
  readonly notify?: { readonly allowPrivateAddresses?: boolean; readonly retry?: Partial<RetryPolicy>; readonly tickMs?: number };
  /** Command delivery: queue depth, overflow policy, visibility timeout, attempts, rates (docs/actions.md "Limits"). */
  readonly commands?: Partial<CommandLimits>;
}

/** Refuses a listen address other than loopback without TLS (or --insecure): what it serves would cross the network in clear. */
/** `publicUrl` checked (http or https, no credentials, query or fragment) and without its trailing slashes. */
export function publicBaseUrl(opts: Pick<CloudOptions, 'publicUrl'>): string | undefined {
  if (opts.publicUrl === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(opts.publicUrl);
  } catch {
    throw new RangeError(`--public-url ${opts.publicUrl} is not a URL`);
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.username !== '' || u.password !== '' || u.search !== '' || u.hash !== '')
    throw new RangeError(`--public-url ${opts.publicUrl} must be an http or https base URL, without credentials, query or fragment`);
  return `${u.origin}${u.pathname}`.replace(/\/+$/, '');
}

/** Refuses, before anything starts, listen addresses that would serve in clear and a malformed public URL. */
export function checkOptions(opts: CloudOptions): void {
  checkListenAddresses(opts);
  publicBaseUrl(opts);
}

function checkListenAddresses(opts: CloudOptions): void {
  for (const [what, addr] of [
    ['--host', opts.host],
    ['--http-host', opts.httpHost],
  ] as const) {
    if (addr !== undefined && !isLoopback(addr) && opts.insecure !== true && opts.tls === undefined) {
      throw new RangeError(
        `${what} ${addr} is not a loopback address: without TLS everything it serves crosses the network in clear; give a certificate (CloudOptions.tls, --tls-cert/--tls-key) or pass --insecure (CloudOptions.insecure) to do it anyway`,
      );
    }
  }
}
