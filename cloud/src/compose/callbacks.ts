/**
 * @module HTTP callback subscriptions (docs/composite-streams.md, "HTTP callbacks"): an owner registers a URL
 * and a secret for a stream it may read; every value the host stores for that stream is POSTed there as JSON
 * (the sensor update with its `id`), signed (callback-http.ts). Each subscription has its own bounded queue,
 * delivered in order: a failed POST (no answer in time, a network error, 408, 429 or 5xx) is tried again
 * with exponential back-off up to `maxAttempts`, then given up and counted; any other 4xx is not retried.
 * Whether the owner may still read the stream is asked before every POST, so revoking a grant (or deleting
 * the object) stops delivery at once. The queues are rows of cloud.db (callback-store.ts), deleted once a value
 * is delivered or given up: a restart under the same worker id resumes them, so a value stored while its
 * receiver was away is still sent (at least once: the one in flight at a crash is sent again, with the
 * same X-Ferry-Delivery).
 */
import { randomBytes } from 'node:crypto';
import { backoffDelay } from '@ferry/base';
import { checkResolves, checkUrl, post, sign } from './callback-http.ts';
import type { Pending, SqliteSubscriptionStore, Subscription } from './callback-store.ts';
import { SoFlowError } from './errors.ts';
import type { Caller, HostedOutput, SoHosting } from './hosting.ts';
import { asUpdate } from './mqtt-gate.ts';

export interface CallbackOptions {
  /** Allow callbacks to loopback, private and link-local addresses (a cloud on a private network; tests). Default false. */
  readonly allowPrivate?: boolean;
  /** Per POST, default 5000 ms. */
  readonly timeoutMs?: number;
  /** Tries per value, default 6. */
  readonly maxAttempts?: number;
  /** Back-off between tries: first delay and ceiling, default 500 ms and 30 s. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** Values waiting per subscription, default 1000; past it the oldest is dropped and counted. */
  readonly queue?: number;
  /** Subscriptions per owner, default 100. */
  readonly perOwner?: number;
  /**
   * Whose outbox rows these are, default 'embedded'. Workers sharing one cloud.db (scale-out) each need their
   * own stable id (CloudOptions.clientId): a worker resumes only its own rows.
   */
  readonly worker?: string;
}

export const CALLBACK_DEFAULTS = {
  timeoutMs: 5000,
  maxAttempts: 6,
  backoff: { initialMs: 500, maxMs: 30_000 },
  queue: 1000,
  perOwner: 100,
  worker: 'embedded',
} as const;

export interface CallbackCounters {
  delivered: number;
  /** POSTs that failed and were tried again. */
  retries: number;
  /** Values given up after the last try, or answered with a 4xx. */
  failed: number;
  /** Values dropped from a full queue. */
  overflow: number;
  /** Values not sent because the owner may no longer read the stream. */
  forbidden: number;
}

/** What the API shows of a subscription: never its secret. */
export type SubscriptionView = Omit<Subscription, 'secret'>;
const view = ({ secret: _s, ...v }: Subscription): SubscriptionView => v;

interface Lane {
  readonly queue: Pending[];
  running: boolean;
}

const retryable = (status: number | undefined): boolean => status === undefined || status === 408 || status === 429 || status >= 500;

export class CallbackDispatcher {
  readonly counters: CallbackCounters = { delivered: 0, retries: 0, failed: 0, overflow: 0, forbidden: 0 };
  readonly #hosting: SoHosting;
  readonly #store: SqliteSubscriptionStore;
  readonly #o: Required<Omit<CallbackOptions, 'backoff'>> & { backoff: { initialMs: number; maxMs: number } };
  readonly #log: (m: string) => void;
  readonly #lanes = new Map<string, Lane>();
  readonly #running = new Set<Promise<void>>();
  #unlisten: (() => void) | undefined;
  #stopped = false;
  /** Wakes the back-off sleeps when stopping. */
  #wake = new AbortController();

  constructor(p: { hosting: SoHosting; store: SqliteSubscriptionStore; options?: CallbackOptions | undefined; log?: ((m: string) => void) | undefined }) {
    this.#hosting = p.hosting;
    this.#store = p.store;
    this.#o = { allowPrivate: false, ...CALLBACK_DEFAULTS, ...p.options };
    this.#log = p.log ?? (() => undefined);
  }

  /** Listens to the host, and resumes what this worker had queued before (oldest first). */
  start(): void {
    if (this.#unlisten !== undefined) return;
    this.#stopped = false;
    this.#wake = new AbortController();
    this.#unlisten = this.#hosting.onOutput((o) => this.#enqueue(o));
    for (const p of this.#store.pending(this.#o.worker)) this.#push(p.sub, p);
  }

  /** Stops listening; the POST under way finishes, nothing more is sent; what waits stays queued for the next start. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake.abort();
    this.#unlisten?.();
    this.#unlisten = undefined;
    await Promise.all([...this.#running]);
    this.#lanes.clear();
  }

  /** Registers a callback for a stream the caller may read (otherwise FERRY_COMPOSE_NOT_FOUND's twin: FERRY_SOFLOW_NOT_FOUND). */
  async add(caller: Caller, so: string, stream: string, body: unknown): Promise<SubscriptionView> {
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const url = checkUrl(b['url'], this.#o.allowPrivate);
    const secret = b['secret'];
    if (typeof secret !== 'string' || secret.length < 16 || secret.length > 256)
      throw new SoFlowError('FERRY_SOFLOW_BAD_SECRET', 'secret must be a string of 16..256 characters');
    if (!(await this.#hosting.mayRead(caller, so, stream))) throw new SoFlowError('FERRY_SOFLOW_NOT_FOUND', `no stream ${so}/${stream}`);
    await checkResolves(url, this.#o.allowPrivate);
    const owner = caller.global === true ? undefined : caller.owner;
    if (this.#store.countOf(owner) >= this.#o.perOwner) throw new SoFlowError('FERRY_SOFLOW_LIMIT', `at most ${this.#o.perOwner} subscriptions per owner`);
    const s: Subscription = { id: randomBytes(9).toString('base64url'), owner, so, stream, url: url.toString(), secret, createdMs: Date.now() };
    this.#store.add(s);
    return view(s);
  }

  /** The caller's subscriptions to a stream (a global caller sees all of them). */
  list(caller: Caller, so: string, stream: string): SubscriptionView[] {
    return this.#store
      .ofStream(so, stream)
      .filter((s) => this.#mine(caller, s))
      .map(view);
  }

  remove(caller: Caller, so: string, stream: string, id: string): void {
    const s = this.#store.get(id);
    if (s === undefined || s.so !== so || s.stream !== stream || !this.#mine(caller, s))
      throw new SoFlowError('FERRY_SOFLOW_NOT_FOUND', `no subscription ${id}`);
    this.#store.remove(id);
    this.#lanes.delete(id);
  }

  #mine(caller: Caller, s: Subscription): boolean {
    return caller.global === true || (caller.owner !== undefined && s.owner === caller.owner);
  }

  #enqueue(o: HostedOutput): void {
    if (this.#stopped) return;
    const subs = this.#store.ofStream(o.so, o.stream);
    if (subs.length === 0) return;
    const body = JSON.stringify({ so: o.so, stream: o.stream, ...asUpdate(o.value) });
    for (const s of subs) this.#push(s.id, this.#store.queue(this.#o.worker, { sub: s.id, body, delivery: o.value.id }));
  }

  #push(sub: string, p: Pending): void {
    let lane = this.#lanes.get(sub);
    if (lane === undefined) {
      lane = { queue: [], running: false };
      this.#lanes.set(sub, lane);
    }
    if (lane.queue.length >= this.#o.queue) {
      this.#store.done(lane.queue.shift()!.seq);
      this.counters.overflow++;
    }
    lane.queue.push(p);
    if (!lane.running) {
      lane.running = true;
      const l = lane;
      const run = this.#drain(sub, l).finally(() => {
        l.running = false;
        this.#running.delete(run);
      });
      this.#running.add(run);
    }
  }

  async #drain(id: string, lane: Lane): Promise<void> {
    while (lane.queue.length > 0 && !this.#stopped) {
      const s = this.#store.get(id);
      if (s === undefined) return; // deleted meanwhile
      const p = lane.queue.shift()!;
      const caller: Caller = s.owner === undefined ? { global: true } : { owner: s.owner };
      if (!(await this.#hosting.mayRead(caller, s.so, s.stream))) {
        this.counters.forbidden++;
        this.#store.done(p.seq);
        continue;
      }
      if (await this.#deliver(s, p)) this.#store.done(p.seq);
    }
  }

  /** Tries until delivered or given up (true), or until stopped (false: the row stays for the next start). */
  async #deliver(s: Subscription, p: Pending): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      const t = Date.now();
      const headers = { 'x-ferry-signature': sign(s.secret, t, p.body), 'x-ferry-subscription': s.id, 'x-ferry-delivery': p.delivery };
      const r = await post(new URL(s.url), p.body, headers, { timeoutMs: this.#o.timeoutMs, allowPrivate: this.#o.allowPrivate });
      if (r.status !== undefined && r.status < 300) {
        this.counters.delivered++;
        return true;
      }
      const refusedAddress = r.error instanceof SoFlowError;
      if (refusedAddress || !retryable(r.status) || attempt + 1 >= this.#o.maxAttempts) {
        this.counters.failed++;
        this.#log(`so callback ${s.id}: gave up on ${p.delivery}: ${r.error?.message ?? `HTTP ${r.status}`}`);
        return true;
      }
      if (this.#stopped) return false;
      this.counters.retries++;
      await this.#sleep(backoffDelay(attempt, this.#o.backoff));
      if (this.#stopped) return false;
    }
  }

  #sleep(ms: number): Promise<void> {
    const signal = this.#wake.signal;
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    });
  }
}
