/**
 * @module Scale-out leases for composite streams (docs/composite-streams.md, "Scale-out"). Each connected
 * component of the topology is owned by one worker at a time: a Redis lease holding `<worker>:<fencing
 * token>`, with an expiry the holder renews while it is alive. Every request for a component (a push, a move
 * out or in) is appended to the component's Redis stream, whichever worker took it; the holder reads the
 * stream in order and runs each request on its local host, so a component's waves run one after another, in
 * topological order, on one engine. A request is answered only after its effects are stored: the holder's
 * writes go through a WaveBuffer and are committed with the answer and the component's cursor in one Lua
 * call that checks the fencing token (leases-store.ts). When the holder dies, its lease expires, another
 * worker takes it with a new token and continues from the cursor: a request the dead worker had not
 * committed runs again from the start (it wrote nothing), and one it had committed is not run again (the
 * cursor is past it), so nothing is lost or emitted twice.
 *
 * Written as a wrapper over a local SoHosting, so a host can be wrapped without changing it. Every worker's
 * local host must have the component's objects installed (the host's document store does that); outputs
 * reach this worker's `onOutput` listeners only when this worker computed them, so a subscriber should be
 * fed from what the holder publishes (MQTT), not from one worker's listeners.
 */
import type { Result } from '@ferry/base';
import { type ComposeError, composeError, isComposeError, type PushReport, type SOSnapshot } from '@ferry/compose';
import type { Redis } from 'ioredis';
import { StoreError } from '../../storage/errors.ts';
import { runScript } from '../../storage/redis/script.ts';
import type { Caller, HostedOutput, SoHosting } from '../hosting.ts';
import { ACQUIRE, COMMIT, RENEW, type WaveBuffer } from './wave-store.ts';

export interface LeasedHostingOptions {
  readonly local: SoHosting;
  /** The store the local host's engine writes through; the lease commits it. */
  readonly buffer: WaveBuffer;
  /** A connection for commands; two more are duplicated from it (blocking reads, answers). */
  readonly redis: Redis;
  /** This worker's id, unique among the workers (the cloud's --id). */
  readonly worker: string;
  /** The component an object belongs to: the same name on every worker (e.g. its smallest object id). */
  readonly componentOf: (so: string) => string | Promise<string>;
  /** Key prefix (default `ferry:`). */
  readonly prefix?: string;
  /** Lease time to live (default 5000 ms); the holder renews it every third of that. */
  readonly leaseMs?: number;
  /** How long a request waits for its answer (default 30 s; more than the lease, so a take-over fits in it). */
  readonly answerMs?: number;
  /** Requests waiting per component at most (default 10 000); past it a push is refused. */
  readonly maxBacklog?: number;
}

type Request =
  | { op: 'push'; caller: Caller; so: string; stream: string; body: unknown }
  | { op: 'moveOut'; caller: Caller; so: string }
  | { op: 'moveIn'; caller: Caller; body: readonly unknown[] };
type Wire = { ok: true; value: unknown } | { ok: false; code: string; message: string; where?: unknown };
interface Held {
  readonly value: string;
  cursor: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A typed error as it came over the wire, with its message as the holder wrote it. */
function fromWire(w: Extract<Wire, { ok: false }>): ComposeError {
  const e = composeError(w.code as ComposeError['code'], '');
  e.message = w.message;
  if (w.where !== undefined) e.where = w.where as NonNullable<ComposeError['where']>;
  return e;
}

export class LeasedHosting implements SoHosting {
  readonly #o: Required<Omit<LeasedHostingOptions, 'componentOf'>> & Pick<LeasedHostingOptions, 'componentOf'>;
  readonly #blocking: Redis;
  readonly #answers: Redis;
  readonly #held = new Map<string, Held>();
  readonly #known = new Set<string>();
  readonly #waiting = new Map<string, (w: Wire) => void>();
  readonly #listeners = new Set<(o: HostedOutput) => void>();
  /** Outputs of the request being run, told to listeners once it is committed. */
  #running: HostedOutput[] | undefined;
  #closed = false;
  readonly #loop: Promise<void>;
  readonly #timers: NodeJS.Timeout[];
  readonly #subscribed: Promise<unknown>;

  constructor(o: LeasedHostingOptions) {
    this.#o = { prefix: 'ferry:', leaseMs: 5000, answerMs: 30_000, maxBacklog: 10_000, ...o };
    this.#blocking = o.redis.duplicate();
    this.#answers = o.redis.duplicate();
    this.#answers.on('message', (_channel: string, message: string) => {
      const { k, r } = JSON.parse(message) as { k: string; r: Wire };
      this.#waiting.get(k)?.(r);
    });
    this.#subscribed = this.#answers.subscribe(this.#key('so-answers', this.#o.worker));
    o.local.onOutput((out) => {
      if (this.#running !== undefined) this.#running.push(out);
    });
    this.#timers = [
      setInterval(() => void this.#renew(), this.#o.leaseMs / 3),
      // Answers come by pub/sub; one lost with a dropped connection is read from its key.
      setInterval(() => void this.#poll(), 1000),
    ];
    this.#loop = this.#run();
  }

  #key(...parts: string[]): string {
    return `${this.#o.prefix}${parts.join(':')}`;
  }
  #keys(c: string) {
    return { lease: this.#key('so-lease', c), fence: this.#key('so-fence', c), stream: this.#key('so-in', c), cursor: this.#key('so-cursor', c) };
  }

  /** Components this worker holds now. */
  get held(): readonly string[] {
    return [...this.#held.keys()];
  }

  async push(caller: Caller, so: string, stream: string, update: unknown): Promise<Result<PushReport, ComposeError>> {
    return (await this.#ask({ op: 'push', caller, so, stream, body: update }, so)) as Result<PushReport, ComposeError>;
  }
  async mayRead(caller: Caller, so: string, stream: string): Promise<boolean> {
    return await this.#o.local.mayRead(caller, so, stream);
  }
  onOutput(listener: (output: HostedOutput) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  async moveOut(caller: Caller, so: string): Promise<Result<readonly SOSnapshot[], ComposeError>> {
    return (await this.#ask({ op: 'moveOut', caller, so }, so)) as Result<readonly SOSnapshot[], ComposeError>;
  }
  async moveIn(caller: Caller, snapshots: readonly unknown[]): Promise<Result<void, ComposeError>> {
    const so = (snapshots[0] as { so?: unknown } | undefined)?.so;
    if (typeof so !== 'string') return { ok: false, error: composeError('FERRY_COMPOSE_SNAPSHOT', 'a move carries at least one snapshot with its so') };
    return (await this.#ask({ op: 'moveIn', caller, body: snapshots }, so)) as Result<void, ComposeError>;
  }

  /** Appends the request to its component's stream and waits for the holder's answer (stored with its effects). */
  async #ask(req: Request, so: string): Promise<Result<unknown, ComposeError>> {
    await this.#subscribed;
    const c = await this.#o.componentOf(so);
    const k = this.#keys(c);
    if (!this.#known.has(c)) {
      await this.#o.redis.sadd(this.#key('so-components'), c);
      this.#known.add(c);
    }
    if ((await this.#o.redis.xlen(k.stream)) >= this.#o.maxBacklog)
      return { ok: false, error: composeError('FERRY_COMPOSE_LIMIT', `more than ${this.#o.maxBacklog} requests wait for this component`, { so }) };
    const id = await this.#o.redis.xadd(k.stream, '*', 'r', JSON.stringify({ ...req, from: this.#o.worker }));
    if (id === null) throw new StoreError('FERRY_STORE_UNAVAILABLE', 'XADD answered no id');
    const key = `${c}|${id}`;
    const answer = new Promise<Wire | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), this.#o.answerMs);
      this.#waiting.set(key, (w) => {
        clearTimeout(timer);
        resolve(w);
      });
    });
    if (!this.#held.has(c)) await this.#acquire(c); // a component nobody holds: take it now rather than at the next scan
    const w = await answer;
    this.#waiting.delete(key);
    if (w === undefined)
      throw new StoreError('FERRY_STORE_UNAVAILABLE', `no worker answered within ${this.#o.answerMs} ms; the request is queued and will be applied once`);
    return w.ok ? { ok: true, value: w.value } : { ok: false, error: fromWire(w) };
  }

  async #poll(): Promise<void> {
    if (this.#waiting.size === 0) return;
    const keys = [...this.#waiting.keys()];
    const values = await this.#o.redis.mget(...keys.map((k) => this.#key('so-res', k))).catch(() => []);
    values.forEach((v, i) => {
      if (v !== null && v !== undefined) this.#waiting.get(keys[i]!)?.(JSON.parse(v) as Wire);
    });
  }

  async #acquire(c: string): Promise<void> {
    const k = this.#keys(c);
    const [took, value] = (await runScript(this.#o.redis, ACQUIRE, [k.lease, k.fence], [this.#o.worker, this.#o.leaseMs])) as [number, string];
    if (took !== 1 || this.#closed) return;
    const cursor = (await this.#o.redis.get(k.cursor)) ?? '0-0';
    this.#held.set(c, { value, cursor });
  }

  async #renew(): Promise<void> {
    for (const [c, h] of this.#held) {
      const ok = await runScript(this.#o.redis, RENEW, [this.#keys(c).lease], [h.value, this.#o.leaseMs]).catch(() => 0);
      if (ok !== 1) this.#held.delete(c);
    }
  }

  /** The holder's loop: take free components, read their streams in order, run and commit each request. */
  async #run(): Promise<void> {
    let scanned = 0;
    while (!this.#closed) {
      try {
        if (Date.now() - scanned > this.#o.leaseMs / 5) {
          scanned = Date.now();
          for (const c of await this.#o.redis.smembers(this.#key('so-components'))) if (!this.#held.has(c)) await this.#acquire(c);
        }
        const held = [...this.#held];
        if (held.length === 0) {
          await sleep(50);
          continue;
        }
        const read = (await this.#blocking.xread(
          'COUNT',
          64,
          'BLOCK',
          50,
          'STREAMS',
          ...held.map(([c]) => this.#keys(c).stream),
          ...held.map(([, h]) => h.cursor),
        )) as [string, [string, string[]][]][] | null;
        for (const [stream, entries] of read ?? []) {
          const c = held.find(([x]) => this.#keys(x).stream === stream)![0];
          for (const [id, fields] of entries) if (!(await this.#one(c, id, fields[1]!))) break;
        }
      } catch {
        await sleep(100); // Redis away: nothing is committed, the same requests run again when it is back
      }
    }
  }

  /** Runs one request and commits it; false when this worker no longer holds the component or the run failed. */
  async #one(c: string, id: string, raw: string): Promise<boolean> {
    const h = this.#held.get(c);
    if (h === undefined) return false;
    const req = JSON.parse(raw) as Request & { from: string };
    const local = this.#o.local;
    this.#o.buffer.begin();
    this.#running = [];
    let answer: Wire;
    try {
      const r =
        req.op === 'push'
          ? await local.push(req.caller, req.so, req.stream, req.body)
          : req.op === 'moveOut'
            ? await local.moveOut(req.caller, req.so)
            : await local.moveIn(req.caller, req.body);
      answer = r.ok
        ? { ok: true, value: r.value ?? null }
        : { ok: false, code: r.error.code, message: r.error.message, ...(r.error.where !== undefined && { where: r.error.where }) };
    } catch (e) {
      // A store that failed under the engine: nothing is committed, so the request runs again; a typed error is the answer.
      if (!isComposeError(e)) {
        this.#o.buffer.take();
        this.#running = undefined;
        throw e;
      }
      answer = { ok: false, code: e.code, message: e.message };
    }
    const outputs = this.#running;
    this.#running = undefined;
    const w = this.#o.buffer.take();
    const k = this.#keys(c);
    const text = JSON.stringify(answer);
    const done = await runScript(
      this.#o.redis,
      COMMIT,
      [k.lease, k.cursor, this.#key('so-res', `${c}|${id}`), k.stream, ...w.keys],
      [h.value, id, text, this.#o.answerMs * 2, this.#key('so-answers', req.from), JSON.stringify({ k: `${c}|${id}`, r: answer }), w.writes, ...w.args],
    );
    if (done !== 1) {
      this.#held.delete(c); // another worker holds it now; it runs this request itself
      return false;
    }
    h.cursor = id;
    for (const o of outputs) for (const l of this.#listeners) l(o);
    return true;
  }

  /** Stops taking requests and lets this worker's leases go, so another worker takes them at once. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    await this.#loop;
    for (const [c, h] of this.#held) await runScript(this.#o.redis, RENEW, [this.#keys(c).lease], [h.value, 0]).catch(() => undefined);
    this.#held.clear();
    this.#blocking.disconnect();
    this.#answers.disconnect();
  }
}
