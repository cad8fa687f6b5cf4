/**
 * @module The cloud's alarm rules in scale-out (docs/operations.md "Alarms", "Scale-out"): each worker ingests
 * only its share of a device's messages (an MQTT shared subscription), so the cloud's alarm jobs run on one
 * worker, the alarm leader. The leader holds a Redis lease (`<worker>:<fencing token>`, renewed every third of
 * its time to live; the scripts of the composite streams' leases). Every worker appends what the alarm jobs
 * would be fed (a device's released message, a composite-stream value it computed) to one Redis stream,
 * only for devices and streams some cloud rule reads; the leader reads the stream in order from its cursor,
 * feeds its jobs and saves the cursor after their states (each check period and after each edge), so a new
 * leader continues from there. An entry fed twice after a take-over is dropped by its job's de-duplication
 * window (its input id); an edge applied twice changes nothing (transitionKey). Metric rules sample the
 * leader's own registry: metrics are per process.
 */
import { TIME_LEEWAY_S } from '@ferry/message';
import type { Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import { ACQUIRE, RENEW } from '../compose/scale-out/wave-store.ts';
import { runScript, type Script } from '../storage/redis/script.ts';
import { feedsOnDevice, feedsOnStream } from './compile.ts';
import type { AlarmRule, StoredAlarm } from './types.ts';

type StreamValue = { readonly channels: Readonly<Record<string, unknown>>; readonly lastUpdate: number; readonly id: string };
type Device = { readonly owner?: string | undefined; readonly kind?: string | undefined };

/** What the leader needs of AlarmRules (rules.ts). */
export interface LeaderRules {
  adopt(): Promise<void>;
  dropCloudJobs(): void;
  save(): Promise<void>;
  telemetry(kid: string, event: unknown, record: unknown, atMs: number, id: string, device: Device): number;
  streamValue(so: string, stream: string, value: StreamValue): number;
  clearedByHand(a: Pick<StoredAlarm, 'rule' | 'source'>): Promise<void>;
}

export interface AlarmScaleOutOptions {
  /** A connection for commands; one more is duplicated from it for the blocking reads. */
  readonly redis: Redis;
  /** This worker's id, unique among the workers. */
  readonly worker: string;
  readonly rules: LeaderRules;
  /** Every stored alarm rule (the shared store). */
  readonly listRules: () => Promise<readonly AlarmRule[]>;
  readonly device: (kid: string) => Device | undefined;
  readonly log: (m: string) => void;
  /** Key prefix (default `ferry:`), as the alarm store's. */
  readonly prefix?: string;
  /** The lease's time to live (default 5000 ms). */
  readonly leaseMs?: number;
  /** How often the rules are read again and the cursor saved (the check period, default 1000 ms). */
  readonly periodMs?: number;
  /** Entries the stream keeps at most, roughly (default 100 000, docs/limits.md): the oldest are trimmed. */
  readonly maxLen?: number;
}

type Entry =
  | { readonly t: 'd'; readonly kid: string; readonly ev: unknown; readonly rec: unknown; readonly at: number; readonly id: string; readonly owner?: string }
  | { readonly t: 's'; readonly so: string; readonly stream: string; readonly value: StreamValue }
  | { readonly t: 'c'; readonly rule?: string; readonly source: string };

/** Moves the cursor if this worker still holds the lease, and trims what is behind it. KEYS: lease, cursor, stream. ARGV: lease value, id. */
const CURSOR_SOURCE = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('XTRIM', KEYS[3], 'MINID', ARGV[2])
return 1`;
const CURSOR: Script = { name: 'alarm-cursor', source: CURSOR_SOURCE, sha: createHash('sha1').update(CURSOR_SOURCE).digest('hex') };

export const ALARM_STREAM_MAXLEN = 100_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class AlarmScaleOut {
  readonly #o: Required<AlarmScaleOutOptions>;
  readonly #blocking: Redis;
  readonly #keys: { readonly lease: string; readonly fence: string; readonly stream: string; readonly cursor: string };
  /** The cloud rules every worker forwards for, read from the store each period. */
  #rules: readonly AlarmRule[] = [];
  /** The lease value this worker holds, when it leads. */
  #lease: string | undefined;
  /** The last entry fed to the jobs; `#saved` the last one stored as the cursor. */
  #fed = '0-0';
  #saved = '0-0';
  #closed = false;
  #loop: Promise<void> | undefined;

  constructor(o: AlarmScaleOutOptions) {
    this.#o = { prefix: 'ferry:', leaseMs: 5000, periodMs: 1000, maxLen: ALARM_STREAM_MAXLEN, ...o };
    this.#blocking = o.redis.duplicate();
    const b = `${this.#o.prefix}{alarm}:`; // the alarm store's hash tag: one slot with the rules
    this.#keys = { lease: `${b}leader`, fence: `${b}leader-fence`, stream: `${b}in`, cursor: `${b}cursor` };
  }

  /** Whether this worker leads: only then it runs the cloud's alarm jobs. */
  get leading(): boolean {
    return this.#lease !== undefined;
  }

  /** Reads the rules, then takes part: tries the lease, and while holding it feeds the jobs. */
  async start(): Promise<void> {
    await this.#refresh().catch((e: unknown) => this.#o.log(`alarms: scale-out: ${message(e)}`)); // read again each period
    this.#loop = this.#run();
  }

  /** A device's released message, for the leader's telemetry rules that read it. */
  telemetry(kid: string, event: unknown, record: unknown, atMs: number, id: string): void {
    const device = this.#o.device(kid);
    if (device === undefined || device.kind === 'gateway' || !this.#rules.some((r) => feedsOnDevice(r, kid, device.owner, event))) return;
    // The worker's clock bounds a device's time (rules.ts telemetry), here where the message came in.
    const at = Math.min(atMs, Date.now() + TIME_LEEWAY_S * 1000);
    this.#add({ t: 'd', kid, ev: event, rec: record, at, id, ...(device.owner !== undefined && { owner: device.owner }) });
  }

  /** A composite-stream value this worker computed, for the leader's stream rules on it. */
  streamValue(so: string, stream: string, value: StreamValue): void {
    if (this.#rules.some((r) => feedsOnStream(r, so, stream))) this.#add({ t: 's', so, stream, value });
  }

  /**
   * An alarm cleared by hand on any worker: the leader's job of its rule forgets that source's breach (rules.ts
   * clearedByHand), in order with the inputs before it.
   */
  async clearedByHand(a: Pick<StoredAlarm, 'rule' | 'source'>): Promise<void> {
    if (a.rule !== undefined && this.#rules.some((r) => r.id === a.rule)) this.#add({ t: 'c', rule: a.rule, source: a.source });
  }

  #add(e: Entry): void {
    const { redis, maxLen, log } = this.#o;
    redis
      .xadd(this.#keys.stream, 'MAXLEN', '~', maxLen, '*', 'e', JSON.stringify(e))
      .catch((x: unknown) => log(`alarms: input not forwarded to the leader: ${message(x)}`));
  }

  async #refresh(): Promise<void> {
    this.#rules = (await this.#o.listRules()).filter((r) => r.runtime === 'cloud');
  }

  /** One loop per worker, so taking, losing and feeding never overlap. */
  async #run(): Promise<void> {
    const { leaseMs, periodMs } = this.#o;
    let tried = 0;
    let renewed = 0;
    let refreshed = Date.now();
    while (!this.#closed) {
      try {
        const now = Date.now();
        if (this.#lease === undefined && now - tried >= leaseMs / 5) {
          tried = now;
          renewed = now;
          await this.#acquire();
        } else if (this.#lease !== undefined && now - renewed >= leaseMs / 3) {
          renewed = now;
          const held = await runScript(this.#o.redis, RENEW, [this.#keys.lease], [this.#lease, leaseMs]);
          if (held !== 1) this.#lose('its lease passed to another worker');
        }
        if (now - refreshed >= periodMs) {
          refreshed = now;
          await this.#refresh();
          if (this.#lease !== undefined) {
            await this.#o.rules.adopt(); // rules made or deleted on any worker
            await this.#checkpoint();
          }
        }
        if (this.#lease === undefined) await sleep(100);
        else await this.#feed();
      } catch (e) {
        this.#o.log(`alarms: scale-out: ${message(e)}`);
        await sleep(200); // Redis away: the lease runs out, and whoever leads next reads from the saved cursor
      }
    }
  }

  async #acquire(): Promise<void> {
    const { redis, worker, leaseMs } = this.#o;
    const [took, value] = (await runScript(redis, ACQUIRE, [this.#keys.lease, this.#keys.fence], [worker, leaseMs])) as [number, string];
    if (took !== 1) return;
    // Read before leading: a failed read leaves the lease to run out rather than feeding from a wrong place.
    const cursor = await redis.get(this.#keys.cursor);
    if (this.#closed) return;
    this.#lease = value;
    this.#fed = this.#saved = cursor ?? '0-0';
    await this.#o.rules.adopt(); // the stored rules, from their saved states
    this.#o.log(`alarms: ${worker} leads the alarm rules from ${this.#fed}`);
  }

  #lose(why: string): void {
    this.#lease = undefined;
    this.#o.rules.dropCloudJobs();
    this.#o.log(`alarms: ${this.#o.worker} no longer leads the alarm rules: ${why}`);
  }

  /** Reads the next entries (blocking briefly) and feeds them in order; after an edge, saves states and cursor. */
  async #feed(): Promise<void> {
    const read = (await this.#blocking.xread('COUNT', 256, 'BLOCK', 100, 'STREAMS', this.#keys.stream, this.#fed)) as [string, [string, string[]][]][] | null;
    let edges = 0;
    for (const [, entries] of read ?? []) {
      for (const [id, fields] of entries) {
        edges += this.#apply(fields[1]);
        this.#fed = id;
      }
    }
    if (edges === 0) return;
    // The edges' own saves (rules.ts #take) go first, on the same connection as the cursor's.
    await new Promise((r) => setImmediate(r));
    await this.#checkpoint();
  }

  #apply(raw: string | undefined): number {
    try {
      const e = JSON.parse(raw ?? 'null') as Entry;
      const rules = this.#o.rules;
      if (e.t === 'd') return rules.telemetry(e.kid, e.ev, e.rec, e.at, e.id, { owner: e.owner, kind: 'device' });
      if (e.t === 's') return rules.streamValue(e.so, e.stream, e.value);
      void rules.clearedByHand(e); // saves the job's state itself
      return 0;
    } catch (x) {
      this.#o.log(`alarms: a forwarded input skipped: ${message(x)}`);
      return 0;
    }
  }

  /**
   * Saves the jobs' states, then the cursor as it was before them: a kill between the two feeds some entries
   * again, which the jobs drop by their ids; never does the cursor pass an entry whose effect is not saved.
   */
  async #checkpoint(): Promise<void> {
    const lease = this.#lease;
    const fed = this.#fed;
    if (lease === undefined) return;
    await this.#o.rules.save();
    if (fed === this.#saved) return;
    if ((await runScript(this.#o.redis, CURSOR, [this.#keys.lease, this.#keys.cursor, this.#keys.stream], [lease, fed])) === 1) this.#saved = fed;
  }

  /** Stops; a leader saves its jobs' states and cursor, drops its jobs and lets the lease go, so another takes it at once. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#loop;
    const lease = this.#lease;
    if (lease !== undefined) {
      try {
        await this.#checkpoint();
        await runScript(this.#o.redis, RENEW, [this.#keys.lease], [lease, 0]);
      } catch (e) {
        this.#o.log(`alarms: scale-out: ${message(e)}`);
      } finally {
        this.#lose('it stops'); // nothing of this worker's is saved after that
      }
    }
    this.#blocking.disconnect();
  }
}
