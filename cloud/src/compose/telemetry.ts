/**
 * @module Devices' signed telemetry into service objects' streams (docs/composite-streams.md, "From
 * devices"). A mapping `{device, ev, so, stream, channels: {"<ch>": "<field of d>"}}`, registered by the
 * owner of the device, turns each released message of that device and event into a sensor update of the
 * stream: each channel takes the named field of the message's data (`d`), and `lastUpdate` is the
 * message's own time (`iat`, in ms). Only released messages feed it (ingest verified the signature, refused
 * replays and duplicates and put them in (epoch, seq) order, docs/ingest.md), so what reaches a composite is
 * what the board signed. The update is pushed as the mapping's owner: a stream of another owner's object is
 * refused by the host and counted. Feeding happens off the ingest path, one stream's updates in order; each
 * update waits as a row of cloud.db until the host took it, so one released but not yet pushed when the cloud
 * dies is pushed when it starts again (the host drops it if it is not newer).
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { IngestEvent } from '../ingest/index.ts';
import { SoFlowError } from './errors.ts';
import type { Caller, SoHosting } from './hosting.ts';
import { SerialQueues } from './serial-queues.ts';

export interface Mapping {
  readonly id: string;
  /** The owner of the device and of the mapping. */
  readonly owner: string;
  readonly device: string;
  /** The event (`ev` claim) it takes. */
  readonly ev: string;
  readonly so: string;
  readonly stream: string;
  /** Channel of the stream -> field of the message's `d`. */
  readonly channels: Readonly<Record<string, string>>;
}

export const MAPPING_LIMITS = { perOwner: 1000, channels: 32, name: 64, pending: 10_000 } as const;

export interface TelemetryCounters {
  /** Sensor updates made from messages and stored. */
  fed: number;
  /** Not newer than the stream's latest (a message older than one already fed). */
  notNewer: number;
  /** Dropped by the stream's own pre- or post-filter. */
  filtered: number;
  /** Refused by the host (not the owner's object, a field of the wrong type...). */
  refused: number;
  /** Messages with none of the mapped fields (or no usable `iat`). */
  skipped: number;
  /** Messages dropped because too many were waiting. */
  overflow: number;
  /** Pushes the host failed (it threw): kept, pushed again at the next start. */
  failed: number;
}

/** A sensor update made from a released message, waiting for the host. */
interface Waiting {
  readonly seq: number;
  readonly owner: string;
  readonly so: string;
  readonly stream: string;
  readonly body: string;
}

interface Row {
  id: string;
  owner: string;
  device: string;
  ev: string;
  so: string;
  stream: string;
  channels: string;
}
const fromRow = (r: Row): Mapping => ({ ...r, channels: JSON.parse(r.channels) as Record<string, string> });

/** Mappings in the cloud's database (cloud.db), shared by the workers of a scale-out cloud as the registry is. */
export class SqliteMappingStore {
  readonly #q: {
    add: Database.Statement<[string, string, string, string, string, string, string]>;
    of: Database.Statement<[string, string], Row>;
    ofStream: Database.Statement<[string, string], Row>;
    get: Database.Statement<[string], Row>;
    remove: Database.Statement<[string]>;
    count: Database.Statement<[string], { n: number }>;
    queue: Database.Statement<[string, string, string, string, string]>;
    done: Database.Statement<[number]>;
    pending: Database.Statement<[string], Waiting>;
  };

  constructor(db: Database.Database) {
    db.exec(`
CREATE TABLE IF NOT EXISTS so_mappings (
  id TEXT PRIMARY KEY, owner TEXT NOT NULL, device TEXT NOT NULL, ev TEXT NOT NULL, so TEXT NOT NULL, stream TEXT NOT NULL, channels TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS so_mappings_source ON so_mappings (device, ev);
CREATE TABLE IF NOT EXISTS so_telemetry_outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, worker TEXT NOT NULL, owner TEXT NOT NULL, so TEXT NOT NULL, stream TEXT NOT NULL, body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS so_telemetry_outbox_worker ON so_telemetry_outbox (worker, seq);`);
    this.#q = {
      add: db.prepare('INSERT INTO so_mappings (id, owner, device, ev, so, stream, channels) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      of: db.prepare('SELECT * FROM so_mappings WHERE device = ? AND ev = ? ORDER BY rowid'),
      ofStream: db.prepare('SELECT * FROM so_mappings WHERE so = ? AND stream = ? ORDER BY rowid'),
      get: db.prepare('SELECT * FROM so_mappings WHERE id = ?'),
      remove: db.prepare('DELETE FROM so_mappings WHERE id = ?'),
      count: db.prepare('SELECT count(*) AS n FROM so_mappings WHERE owner = ?'),
      queue: db.prepare('INSERT INTO so_telemetry_outbox (worker, owner, so, stream, body) VALUES (?, ?, ?, ?, ?)'),
      done: db.prepare('DELETE FROM so_telemetry_outbox WHERE seq = ?'),
      pending: db.prepare('SELECT seq, owner, so, stream, body FROM so_telemetry_outbox WHERE worker = ? ORDER BY seq'),
    };
  }
  add(m: Mapping): void {
    this.#q.add.run(m.id, m.owner, m.device, m.ev, m.so, m.stream, JSON.stringify(m.channels));
  }
  of(device: string, ev: string): Mapping[] {
    return this.#q.of.all(device, ev).map(fromRow);
  }
  ofStream(so: string, stream: string): Mapping[] {
    return this.#q.ofStream.all(so, stream).map(fromRow);
  }
  get(id: string): Mapping | undefined {
    const r = this.#q.get.get(id);
    return r === undefined ? undefined : fromRow(r);
  }
  remove(id: string): void {
    this.#q.remove.run(id);
  }
  countOf(owner: string): number {
    return this.#q.count.get(owner)?.n ?? 0;
  }
  queue(worker: string, w: Omit<Waiting, 'seq'>): Waiting {
    return { seq: Number(this.#q.queue.run(worker, w.owner, w.so, w.stream, w.body).lastInsertRowid), ...w };
  }
  done(seq: number): void {
    this.#q.done.run(seq);
  }
  pending(worker: string): Waiting[] {
    return this.#q.pending.all(worker);
  }
}

const NAME = (s: unknown): s is string => typeof s === 'string' && s.length >= 1 && s.length <= MAPPING_LIMITS.name;
const bad = (detail: string): SoFlowError => new SoFlowError('FERRY_SOFLOW_BAD_MAPPING', detail);

export class TelemetryFeed {
  readonly counters: TelemetryCounters = { fed: 0, notNewer: 0, filtered: 0, refused: 0, skipped: 0, overflow: 0, failed: 0 };
  readonly #hosting: SoHosting;
  readonly #store: SqliteMappingStore;
  readonly #ownerOf: (device: string) => string | undefined;
  readonly #log: (m: string) => void;
  readonly #queues = new SerialQueues();
  readonly #worker: string;
  #pending = 0;

  constructor(p: {
    hosting: SoHosting;
    store: SqliteMappingStore;
    /** The owner of a registered device (undefined: unknown, or of no owner). */
    ownerOf: (device: string) => string | undefined;
    /** Whose waiting rows these are (as CallbackOptions.worker), default 'embedded'. */
    worker?: string | undefined;
    log?: ((m: string) => void) | undefined;
  }) {
    this.#hosting = p.hosting;
    this.#store = p.store;
    this.#ownerOf = p.ownerOf;
    this.#worker = p.worker ?? 'embedded';
    this.#log = p.log ?? (() => undefined);
  }

  /** Pushes what this worker had waiting when it stopped or died, oldest first. */
  resume(): void {
    for (const w of this.#store.pending(this.#worker)) this.#push(w);
  }

  /** Registers a mapping into a stream the caller may read, from a device of the same owner. */
  async add(caller: Caller, so: string, stream: string, body: unknown): Promise<Mapping> {
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const { device, ev, channels } = b;
    if (!NAME(device) || !NAME(ev)) throw bad('device and ev are strings of 1..64 characters');
    if (typeof channels !== 'object' || channels === null || Array.isArray(channels)) throw bad('channels is an object {"<channel>": "<field of d>"}');
    const entries = Object.entries(channels as Record<string, unknown>);
    if (entries.length === 0 || entries.length > MAPPING_LIMITS.channels || !entries.every(([c, f]) => NAME(c) && NAME(f)))
      throw bad(`channels maps 1..${MAPPING_LIMITS.channels} channel names to field names, each 1..64 characters`);
    const owner = this.#ownerOf(device);
    if (owner === undefined || (caller.global !== true && caller.owner !== owner)) throw bad(`no device ${device} of the caller's`);
    if (!(await this.#hosting.mayRead({ owner }, so, stream))) throw new SoFlowError('FERRY_SOFLOW_NOT_FOUND', `no stream ${so}/${stream}`);
    if (this.#store.countOf(owner) >= MAPPING_LIMITS.perOwner)
      throw new SoFlowError('FERRY_SOFLOW_LIMIT', `at most ${MAPPING_LIMITS.perOwner} mappings per owner`);
    const m: Mapping = {
      id: randomBytes(9).toString('base64url'),
      owner,
      device,
      ev,
      so,
      stream,
      channels: Object.fromEntries(entries) as Record<string, string>,
    };
    this.#store.add(m);
    return m;
  }

  list(caller: Caller, so: string, stream: string): Mapping[] {
    return this.#store.ofStream(so, stream).filter((m) => caller.global === true || m.owner === caller.owner);
  }

  remove(caller: Caller, so: string, stream: string, id: string): void {
    const m = this.#store.get(id);
    if (m === undefined || m.so !== so || m.stream !== stream || (caller.global !== true && m.owner !== caller.owner))
      throw new SoFlowError('FERRY_SOFLOW_NOT_FOUND', `no mapping ${id}`);
    this.#store.remove(id);
  }

  /** An ingest subscriber: every released message (alone or in a group) of a mapped device and event feeds its streams. */
  feed(e: IngestEvent): void {
    if (e.type === 'message') this.#message(e.kid, e.message.claims);
    else if (e.type === 'group') for (const m of e.members) this.#message(e.kid, m.message.claims);
  }

  /** Resolves once every update fed so far was pushed. */
  idle(): Promise<void> {
    return this.#queues.idle();
  }

  #message(kid: string, claims: Readonly<Record<string, unknown>>): void {
    const ev = claims['ev'];
    if (typeof ev !== 'string') return;
    const mappings = this.#store.of(kid, ev);
    if (mappings.length === 0) return;
    const d = claims['d'];
    const iat = claims['iat'];
    for (const m of mappings) {
      const channels: Record<string, { 'current-value': unknown }> = {};
      if (typeof d === 'object' && d !== null)
        for (const [ch, field] of Object.entries(m.channels))
          if (Object.hasOwn(d, field)) channels[ch] = { 'current-value': (d as Record<string, unknown>)[field] };
      if (Object.keys(channels).length === 0 || typeof iat !== 'number' || !Number.isFinite(iat) || iat < 0) {
        this.counters.skipped++;
        continue;
      }
      if (this.#pending >= MAPPING_LIMITS.pending) {
        this.counters.overflow++;
        continue;
      }
      const body = JSON.stringify({ channels, lastUpdate: Math.round(iat * 1000) });
      this.#push(this.#store.queue(this.#worker, { owner: m.owner, so: m.so, stream: m.stream, body }));
    }
  }

  #push(w: Waiting): void {
    this.#pending++;
    void this.#queues
      .run(`${w.so}/${w.stream}`, () => this.#hosting.push({ owner: w.owner }, w.so, w.stream, JSON.parse(w.body)))
      .then(
        (r) => {
          this.#store.done(w.seq);
          if (!r.ok) {
            this.counters.refused++;
            this.#log(`so telemetry: -> ${w.so}/${w.stream}: ${r.error.message}`);
          } else if (r.value.outcome === 'accepted') this.counters.fed++;
          else if (r.value.outcome === 'not-newer') this.counters.notNewer++;
          else this.counters.filtered++;
        },
        // The host failed (its store threw): the row stays, and is pushed again at the next start.
        (err: unknown) => {
          this.counters.failed++;
          this.#log(`so telemetry: -> ${w.so}/${w.stream}: ${(err as Error).message}`);
        },
      )
      .finally(() => this.#pending--);
  }
}
