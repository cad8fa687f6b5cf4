/**
 * @module The uplink route of the intake: a device's or gateway's message on `<prefix>/up/#` goes into ingest
 * with the topic it arrived on, and is acknowledged only after ingest recorded it (at-least-once;
 * de-duplication makes processing effectively-once). A message whose ingest failed (the store is
 * unreachable, a transaction rolled back) is retried with back-off, holding up its connection's intake
 * (back-pressure) until the store is back. With the embedded broker and SQLite, the messages of one turn of
 * the event loop share one commit (group commit).
 */
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
}

const utf8 = new TextEncoder();

/** An MQTT payload as bytes of its own (the client may reuse its buffer once the message is handed over). */
const payloadBytes = (p: Payload): Uint8Array => (typeof p === 'string' ? utf8.encode(p) : new Uint8Array(p));

interface Waiting {
  readonly topic: string;
  readonly bytes: Uint8Array;
  readonly done: (error?: Error) => void;
}

export class Uplink {
  readonly #o: UplinkOptions;
  #batch: Waiting[] = [];
  #stopping = false;

  constructor(o: UplinkOptions) {
    this.#o = o;
  }

  /** The intake route: resolves once the message may be acknowledged. */
  route(): Route {
    return { filter: `${this.#o.prefix}/up/#`, ack: true, subscribe: false, handle: (topic, payload) => this.take(topic, payloadBytes(payload)) };
  }

  /** One message; resolves when ingest recorded it, rejects (not acknowledged) only when the service stops. */
  take(topic: string, bytes: Uint8Array): Promise<void> {
    if (this.#o.groupCommit === undefined) return this.#one(topic, bytes);
    return new Promise((resolve, reject) => {
      if (this.#batch.push({ topic, bytes, done: (e) => (e === undefined ? resolve() : reject(e)) }) === 1) setImmediate(() => this.#flush());
    });
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
    const outs: (IngestOutcome | undefined)[] = [];
    try {
      this.#o.groupCommit!(() => {
        for (const m of batch) {
          const out = this.#o.ingest.ingest(m.bytes, { topic: m.topic });
          outs.push(out instanceof Promise ? undefined : out); // embedded ports answer synchronously
        }
      });
    } catch (e) {
      this.#o.log(`ingest: a batch commit failed (${e instanceof Error ? e.message : String(e)}); retrying one at a time`);
      outs.length = 0;
    }
    for (const [i, m] of batch.entries()) {
      const o = outs[i];
      if (o !== undefined && o.status !== 'failed') { m.done(); continue; }
      this.#one(m.topic, m.bytes).then(() => m.done(), (e: unknown) => m.done(e instanceof Error ? e : new Error(String(e))));
    }
  }

  async #one(topic: string, bytes: Uint8Array): Promise<void> {
    // 'failed' means nothing was recorded: not acknowledged; tried again with back-off until the store is
    // back. A stopping service gives up without acknowledging (the broker redelivers).
    let out = await this.#o.ingest.ingest(bytes, { topic });
    for (let wait = 100; out.status === 'failed' && !this.#stopping; wait = Math.min(wait * 2, 2000)) {
      this.#o.log(`ingest: ${out.error?.message ?? 'failed'}; retrying in ${wait} ms`);
      await new Promise((r) => setTimeout(r, wait));
      out = await this.#o.ingest.ingest(bytes, { topic });
    }
    if (out.status === 'failed') throw out.error ?? new Error('ingest failed');
  }
}
