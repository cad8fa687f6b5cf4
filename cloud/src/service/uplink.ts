/**
 * @module The uplink route of the intake: a device's or gateway's message on `<prefix>/up/#` goes into ingest
 * with the topic it arrived on, and is acknowledged only after ingest recorded it (at-least-once;
 * de-duplication makes processing effectively-once). A message whose ingest failed (the store is
 * unreachable, a transaction rolled back) is retried with back-off, holding up its connection's intake
 * (back-pressure) until the store is back. A message over its device's rate is held back the same way until
 * the device's bucket refills: its acknowledgement waits, so a sender that keeps a bounded number of
 * unacknowledged messages (a gateway draining its outbox) is paced instead of losing what it sent. With the embedded broker and SQLite, the messages of one turn of
 * the event loop share one commit (group commit).
 */
import { peek } from '@ferry/message';
import type { Ingest, IngestOutcome } from '../ingest/index.ts';
import type { Payload, Route } from './topic-table.ts';

export interface UplinkOptions {
  readonly ingest: Ingest;
  readonly prefix: string;
  /**
   * Runs its argument in one transaction: the messages that arrived in one turn of the event loop are
   * ingested in it, each in its own savepoint (embedded broker and SQLite only: aedes hands over a whole
   * socket read before any of it is acknowledged; mqtt.js hands messages over one at a time).
   */
  readonly groupCommit?: ((f: () => void) => void) | undefined;
  readonly log: (msg: string) => void;
  /** True while what ingest releases waits downstream in quantity (the rules' backlog): new messages wait. */
  readonly busy?: (() => boolean) | undefined;
  /** Told every outcome with the kid its topic names and how long ingest took, seconds (metrics, liveness). */
  readonly observe?: ((topicKid: string | undefined, outcome: IngestOutcome, seconds: number) => void) | undefined;
}

const utf8 = new TextEncoder();

/** Messages held back per source at most (docs/limits.md). */
export const MAX_HELD_PER_SOURCE = 1024;

/** A batch slot whose message waits behind its source's held messages (not ingested in the batch). */
const HELD = Symbol('held');

/** An MQTT payload as bytes of its own (the client may reuse its buffer once the message is handed over). */
const payloadBytes = (p: Payload): Uint8Array => (typeof p === 'string' ? utf8.encode(p) : new Uint8Array(p));

interface Waiting {
  readonly topic: string;
  readonly bytes: Uint8Array;
  /** 'drop': recorded as refused by ingest; acknowledged, delivered to nobody. */
  readonly done: (error?: Error, verdict?: 'drop') => void;
}

/** What the broker does with a message ingest answered `o` for, once it is acknowledged. */
const verdictOf = (o: IngestOutcome): 'drop' | undefined => (o.status === 'rejected' ? 'drop' : undefined);

/** The kid a token names in its header (unverified: used only to keep a source's held messages in order). */
const kidOf = (bytes: Uint8Array): string | undefined => {
  const h = peek(bytes);
  return h.ok ? h.value.kid : undefined;
};

export class Uplink {
  readonly #o: UplinkOptions;
  #batch: Waiting[] = [];
  #stopping = false;
  /**
   * Messages held back by their source's rate, per kid in arrival order. While a source has held messages,
   * its new ones queue behind them: holding one back must not let the next overtake it (the cloud would then
   * record a gap and the held one would arrive late).
   */
  readonly #held = new Map<string, Waiting[]>();

  constructor(o: UplinkOptions) {
    this.#o = o;
  }

  /** The source an uplink topic names: `<prefix>/up/<kid>/...` (a gateway's own readings and what it forwards alike). */
  #sourceOf(topic: string): string | undefined {
    const rest = topic.slice(this.#o.prefix.length + 4); // after '<prefix>/up/'
    const end = rest.indexOf('/');
    return end === -1 ? (rest === '' ? undefined : rest) : rest.slice(0, end);
  }

  /** The intake route: resolves once the message may be acknowledged. */
  route(): Route {
    return { filter: `${this.#o.prefix}/up/#`, ack: true, subscribe: false, handle: (topic, payload) => this.take(topic, payloadBytes(payload)) };
  }

  /**
   * One message; resolves when ingest recorded it ('drop' for one it refused: not to be delivered to anyone),
   * rejects (not acknowledged) only when the service stops.
   */
  take(topic: string, bytes: Uint8Array): Promise<undefined | 'drop'> {
    return new Promise((resolve, reject) => {
      const m: Waiting = { topic, bytes, done: (e, verdict) => (e === undefined ? resolve(verdict) : reject(e)) };
      // Downstream (the rules) is behind: wait, in arrival order, before taking more (back-pressure).
      if (this.#paused.length > 0 || this.#o.busy?.() === true) {
        this.#paused.push(m);
        this.#waitForRoom();
        return;
      }
      this.#admit(m);
    });
  }

  /** Messages waiting for downstream to catch up, in arrival order. */
  #paused: Waiting[] = [];
  #pauseTimer: NodeJS.Timeout | undefined;

  #waitForRoom(): void {
    if (this.#pauseTimer !== undefined) return;
    this.#pauseTimer = setTimeout(() => {
      this.#pauseTimer = undefined;
      if (this.#o.busy?.() === true && !this.#stopping) {
        this.#waitForRoom();
        return;
      }
      const go = this.#paused;
      this.#paused = [];
      for (const m of go) this.#admit(m);
    }, 5);
  }

  #admit(m: Waiting): void {
    const kid = kidOf(m.bytes);
    if (kid !== undefined && this.#held.has(kid)) {
      this.#queue(this.#held.get(kid)!, m);
      return;
    }
    if (this.#o.groupCommit === undefined) {
      this.#one(m, kid);
      return;
    }
    if (this.#batch.push(m) === 1) setImmediate(() => this.#flush());
  }

  /** Ingests one message; the outcome is observed once it is known. */
  #ingest(m: Waiting): ReturnType<Ingest['ingest']> {
    const kid = this.#sourceOf(m.topic);
    const t0 = performance.now();
    const out = this.#o.ingest.ingest(m.bytes, { topic: m.topic, kid });
    const observe = this.#o.observe;
    if (observe === undefined) return out;
    if (out instanceof Promise)
      return out.then((o) => {
        observe(kid, o, (performance.now() - t0) / 1000);
        return o;
      });
    observe(kid, out, (performance.now() - t0) / 1000);
    return out;
  }

  /** From now on a failing message is given up (not acknowledged: the broker sends it again). */
  stop(): void {
    this.#stopping = true;
  }

  /**
   * One commit for a batch of uplink messages, then their acknowledgements. Each message keeps its own outcome
   * (a savepoint each: one that fails rolls back alone); a message that failed, or a batch whose commit
   * failed, goes the one-at-a-time way with retries. Subscribers may hear of a batch's events just before its
   * commit; if that commit fails they hear of them again on the retry (at-least-once dispatch, as with the
   * outbox).
   */
  #flush(): void {
    const batch = this.#batch;
    this.#batch = [];
    const outs: (IngestOutcome | typeof HELD | undefined)[] = [];
    try {
      this.#o.groupCommit!(() => {
        const heldNow = new Set<string>();
        for (const m of batch) {
          // A source held back earlier in this batch: the rest of its messages wait behind it, not ingested now.
          const kid = kidOf(m.bytes);
          if (kid !== undefined && (heldNow.has(kid) || this.#held.has(kid))) {
            outs.push(HELD);
            continue;
          }
          const out = this.#ingest(m);
          const o = out instanceof Promise ? undefined : out; // embedded ports answer synchronously
          if (o?.status === 'rate_limited' && kid !== undefined) heldNow.add(kid);
          outs.push(o);
        }
      });
    } catch (e) {
      this.#o.log(`ingest: a batch commit failed (${e instanceof Error ? e.message : String(e)}); retrying one at a time`);
      outs.length = 0;
    }
    for (const [i, m] of batch.entries()) {
      const o = outs[i];
      if (o !== undefined && o !== HELD && o.status !== 'failed' && o.status !== 'rate_limited') {
        m.done(undefined, verdictOf(o));
        continue;
      }
      const kid = kidOf(m.bytes);
      if (kid !== undefined && (o === HELD || o?.status === 'rate_limited')) this.#hold(kid, m, o === HELD ? 0 : (o?.retryAfterMs ?? 10));
      else this.#one(m, kid);
    }
  }

  /** Queues `m` behind its source's held messages; the first one held starts the queue's timer. */
  #hold(kid: string, m: Waiting, retryAfterMs: number): void {
    const q = this.#held.get(kid);
    if (q !== undefined) {
      this.#queue(q, m);
      return;
    }
    this.#held.set(kid, [m]);
    setTimeout(() => void this.#release(kid), retryAfterMs);
  }

  /**
   * Bounded: a sender that keeps publishing while held back (ignoring its unacknowledged messages) gets its
   * excess refused, unacknowledged, so the broker neither acknowledges nor keeps it; the sender still has it.
   */
  #queue(q: Waiting[], m: Waiting): void {
    if (q.length >= MAX_HELD_PER_SOURCE) {
      m.done(new Error(`more than ${MAX_HELD_PER_SOURCE} messages held back for one source; not acknowledged`));
      return;
    }
    q.push(m);
  }

  /** Offers a source's held messages again, in order, until one is held back again or the queue is empty. */
  async #release(kid: string): Promise<void> {
    const q = this.#held.get(kid)!;
    let wait = 100;
    while (q.length > 0) {
      const m = q[0]!;
      if (this.#stopping) {
        for (const w of q.splice(0)) w.done(new Error('the cloud service is stopping'));
        break;
      }
      const out = await this.#ingest(m);
      if (out.status === 'rate_limited') {
        setTimeout(() => void this.#release(kid), out.retryAfterMs ?? 10);
        return;
      }
      if (out.status === 'failed') {
        this.#o.log(`ingest: ${out.error?.message ?? 'failed'}; retrying in ${wait} ms`);
        await new Promise((r) => setTimeout(r, wait));
        wait = Math.min(wait * 2, 2000);
        continue;
      }
      q.shift();
      m.done(undefined, verdictOf(out));
    }
    this.#held.delete(kid);
  }

  /** One message outside a batch: acknowledged once recorded; held back behind its source when over its rate. */
  async #one(m: Waiting, kid: string | undefined): Promise<void> {
    // 'failed' means nothing was recorded: not acknowledged; tried again with back-off until the store is
    // back. A stopping service gives up without acknowledging (the broker redelivers).
    let out = await this.#ingest(m);
    for (let wait = 100; out.status === 'failed' && !this.#stopping; wait = Math.min(wait * 2, 2000)) {
      this.#o.log(`ingest: ${out.error?.message ?? 'failed'}; retrying in ${wait} ms`);
      await new Promise((r) => setTimeout(r, wait));
      out = await this.#ingest(m);
    }
    if (out.status === 'rate_limited' && kid !== undefined && !this.#stopping) {
      this.#hold(kid, m, out.retryAfterMs ?? 10);
      return;
    }
    if (out.status === 'failed' || out.status === 'rate_limited') {
      m.done(out.error ?? new Error('ingest failed'));
      return;
    }
    m.done(undefined, verdictOf(out));
  }
}
