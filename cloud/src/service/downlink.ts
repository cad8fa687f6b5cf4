/**
 * @module What the cloud sends to devices, signed (docs/message-format.md "Downlink", docs/cloud.md "Signed
 * downlink"). `DownlinkSigner` signs a body for one registered device or gateway with its downlink key and
 * the cloud's (epoch, sequence) for that device; `StateDownlink` keeps one retained, signed snapshot of the
 * namespace state per device on `<prefix>/dn/<id>/state`, re-published at most every `intervalMs` per
 * namespace from a timer, never from the ingest path.
 */
import { namespaceOfPlace, placeKey } from './projection.ts';
import type Database from 'better-sqlite3';
import { CLOUD_SOURCE_ID, MAX_TOKEN_BYTES, MAX_UINT32, signDownlink, type DownlinkEvent, type HmacKey, type Json, type Result } from '@ferry/message';

/**
 * The cloud's downlink epoch: the current Unix second, or one more than the last epoch handed out if the clock
 * says otherwise, persisted in cloud.db, so it grows across restarts (even with a clock set back) and a
 * board's replay window accepts the restarted cloud while refusing its old messages. Seconds keep it within
 * uint32 (the header's `ep`) until 2106.
 */
export function nextDownlinkEpoch(db: Database.Database, nowMs: number = Date.now()): number {
  db.exec('CREATE TABLE IF NOT EXISTS downlink_epoch (id INTEGER PRIMARY KEY CHECK (id = 1), epoch INTEGER NOT NULL)');
  return db
    .transaction(() => {
      const row = db.prepare('SELECT epoch FROM downlink_epoch WHERE id = 1').get() as { epoch: number } | undefined;
      const epoch = Math.min(MAX_UINT32, Math.max(Math.floor(nowMs / 1000), (row?.epoch ?? 0) + 1));
      db.prepare('INSERT INTO downlink_epoch (id, epoch) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET epoch = excluded.epoch').run(epoch);
      return epoch;
    })
    .immediate();
}

/** How long a function reply is valid: the call waits far less; the rest is clock skew. */
export const REPLY_TTL_MS = 60_000;

export class DownlinkSigner {
  readonly epoch: number;
  /** Next sequence number by device, within this epoch. */
  readonly #sq = new Map<string, number>();
  readonly #keyOf: (id: string) => HmacKey | undefined;
  readonly #now: () => number;

  constructor(keyOf: (id: string) => HmacKey | undefined, epoch: number, now: () => number = Date.now) {
    this.#keyOf = keyOf;
    this.epoch = epoch;
    this.#now = now;
  }

  /** Whether `id` is a registered device or gateway, which gets signed downlink only. */
  knows(id: string): boolean {
    return this.#keyOf(id) !== undefined;
  }

  /** `body` signed for device `aud`; undefined when `aud` is no registered device (the caller sends it as before). */
  sign(aud: string, ev: DownlinkEvent, body: Json, ttlMs?: number): Result<string> | undefined {
    const key = this.#keyOf(aud);
    if (key === undefined) return undefined;
    const sq = this.#sq.get(aud) ?? 0;
    const r = signDownlink({ aud, ev, ep: this.epoch, sq, nowMs: this.#now(), ...(ttlMs !== undefined && { ttlMs }), body }, key);
    // A sequence number is spent only on a message that exists; 2^32 messages to one device in one epoch
    // would need a restart (a new epoch) to go on, so the counter stops at the top rather than wrap.
    if (r.ok) this.#sq.set(aud, Math.min(sq + 1, MAX_UINT32));
    return r;
  }
}

const b64len = (n: number): number => Math.ceil((n * 4) / 3);
const LONGEST_HEADER = `{"alg":"HS256","typ":"JWT","kid":"${CLOUD_SOURCE_ID}","ep":${MAX_UINT32},"sq":${MAX_UINT32}}`.length;
/** Claims around `d` with the longest aud and iat: {"iss":..,"aud":..,"iat":..,"ev":"ns.state","d":}. */
const CLAIMS_OVERHEAD = JSON.stringify({ iss: CLOUD_SOURCE_ID, aud: 'a'.repeat(32), iat: 9_999_999_999, ev: 'ns.state', d: 0 }).length - 1;
/** The largest `d` (JSON bytes) whose snapshot token stays within MAX_TOKEN_BYTES for any device. */
export const SNAPSHOT_BODY_MAX = Math.floor(((MAX_TOKEN_BYTES - b64len(LONGEST_HEADER) - 2 - 43) * 3) / 4) - CLAIMS_OVERHEAD;

/**
 * The snapshot body of a namespace: `{ns, n, state}` with `n` the number of keys the namespace has and
 * `state` as many of them as fit SNAPSHOT_BODY_MAX, most recently changed first (`entries` is in order of
 * change, oldest first, as Projection keeps it). Keys and values are ASCII (projection.ts), so characters
 * are bytes.
 */
export function snapshotBody(ns: string, entries: ReadonlyMap<string, string>): { ns: string; n: number; state: Record<string, string> } {
  const all = [...entries];
  let size = JSON.stringify({ ns, n: all.length, state: {} }).length;
  const kept: [string, string][] = [];
  for (let i = all.length - 1; i >= 0; i--) {
    const [k, v] = all[i]!;
    const cost = JSON.stringify(k).length + JSON.stringify(v).length + 1 + (kept.length > 0 ? 1 : 0);
    if (size + cost > SNAPSHOT_BODY_MAX) break;
    size += cost;
    kept.push([k, v]);
  }
  return { ns, n: all.length, state: Object.fromEntries(kept.reverse()) };
}

export interface StateDownlinkPorts {
  readonly signer: DownlinkSigner;
  /** A place's projected state (placeKey: owner and namespace), in order of change (Projection.state). */
  stateOf(place: string): ReadonlyMap<string, string> | undefined;
  /** Registered devices and gateways with their namespaces and owners. */
  devices(): readonly { readonly id: string; readonly namespace: string; readonly owner?: string | undefined }[];
  /** A retained QoS 1 publish. */
  publish(topic: string, payload: string): void;
  log(msg: string): void;
}

/** Default: at most one snapshot per namespace every 250 ms. */
export const STATE_DOWNLINK_INTERVAL_MS = 250;

export class StateDownlink {
  /** Snapshots signed and published (tests, metrics). */
  published = 0;
  readonly #dirty = new Set<string>();
  readonly #ports: StateDownlinkPorts;
  readonly #prefix: string;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(ports: StateDownlinkPorts, prefix: string, intervalMs: number = STATE_DOWNLINK_INTERVAL_MS) {
    this.#ports = ports;
    this.#prefix = prefix;
    this.#intervalMs = intervalMs;
  }

  /** A place (placeKey) changed: its devices get a new snapshot within intervalMs. Cheap: called on the ingest path. */
  touch(place: string): void {
    if (this.#stopped) return;
    this.#dirty.add(place);
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, this.#intervalMs);
    this.#timer.unref();
  }

  /** Signs and publishes the snapshot of every changed namespace to each of its devices now. */
  flush(): void {
    if (this.#dirty.size === 0) return;
    const byPlace = new Map<string, string[]>([...this.#dirty].map((place) => [place, []]));
    this.#dirty.clear();
    // By owner and namespace: another owner's namespace of the same name is another place.
    for (const d of this.#ports.devices()) byPlace.get(placeKey(d.owner, d.namespace))?.push(d.id);
    for (const [place, ids] of byPlace) {
      const ns = namespaceOfPlace(place);
      const body = snapshotBody(ns, this.#ports.stateOf(place) ?? new Map());
      for (const id of ids) {
        const r = this.#ports.signer.sign(id, 'ns.state', body);
        if (r === undefined) continue; // removed meanwhile
        if (!r.ok) {
          this.#ports.log(`downlink: state of ${ns} for ${id} not sent: ${r.error.message}`);
          continue;
        }
        this.#ports.publish(`${this.#prefix}/dn/${id}/state`, r.value);
        this.published++;
      }
    }
  }

  stop(): void {
    this.#stopped = true; // readings still arriving while the service stops schedule nothing
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
