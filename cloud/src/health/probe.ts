/**
 * @module The latency probe (docs/operations.md, "Latency probe"): a built-in device with its own key sends a
 * signed message every period over its own MQTT connection, like any board; it goes through the intake,
 * ingest, the rules (a `single-filter` job the probe installs, `probe >= 0`) and back out on
 * `<prefix>/probe/<id>` to a subscriber of the cloud's own connection, which measures the end-to-end latency
 * against the send time it kept (never a time carried in the message). A message that does not come back
 * within `timeoutMs` is counted lost.
 */
import { encode, type HmacKey } from '@ferry/message';
import type { MqttClient } from 'mqtt';
import type { RulesHost } from '@ferry/rules-host';
import type { Histogram } from 'prom-client';

export interface ProbeOptions {
  /** The probe device's id (registered by the service at start, no owner). */
  readonly id: string;
  readonly prefix: string;
  readonly periodMs: number;
  /** Default 10 periods, at least 5 s. */
  readonly timeoutMs?: number;
  readonly rules: RulesHost;
  readonly histogram: Histogram;
  /** Each latency back, ms (the health history records them). */
  readonly onSample?: (ms: number) => void;
  readonly log: (m: string) => void;
}

export interface ProbeSummary {
  readonly enabled: true;
  readonly id: string;
  readonly periodMs: number;
  readonly sent: number;
  readonly received: number;
  readonly lost: number;
  /** Latency of the last message back, ms. */
  readonly lastMs?: number;
  readonly lastAt?: number;
  /** Over the last 100 messages back, ms. */
  readonly p50Ms?: number;
  readonly p99Ms?: number;
}

/** An MQTT payload as the intake hands it over. */
type Payload = Buffer | string;

/** Latencies kept for the summary's percentiles. */
const WINDOW = 100;

export class LatencyProbe {
  readonly #o: ProbeOptions;
  /** Send time (performance.now) by sequence number, for messages not back yet. */
  readonly #pending = new Map<number, number>();
  readonly #recent: number[] = [];
  #client: MqttClient | undefined;
  #key: HmacKey | undefined;
  #epoch = 0;
  #sq = 0;
  #sent = 0;
  #received = 0;
  #lost = 0;
  #last: { ms: number; at: number } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #jobId: string | undefined;

  constructor(o: ProbeOptions) {
    this.#o = o;
  }

  get topic(): string {
    return `${this.#o.prefix}/probe/${this.#o.id}`;
  }

  /** The subscriber end: on the cloud's own connection, subscribed at start. */
  route(): { filter: string; ack: false; subscribe: true; handle: (topic: string, payload: Payload) => void } {
    return { filter: this.topic, ack: false, subscribe: true, handle: (_t, p) => this.#back(p) };
  }

  /** Starts sending over `client` (the probe device's own connection), signing with `key` under `epoch`. */
  start(client: MqttClient, key: HmacKey, epoch: number): void {
    this.#client = client;
    this.#key = key;
    this.#epoch = epoch;
    this.#timer = setInterval(() => this.send(), this.#o.periodMs);
    this.#timer.unref();
    this.send();
  }

  /** One probe message now. */
  send(): void {
    const client = this.#client;
    if (client === undefined || this.#key === undefined) return;
    this.#ensureRule();
    this.#expire();
    const sq = this.#sq++;
    const { id } = this.#o;
    const token = encode(
      { header: { kid: id, ep: this.#epoch, sq }, claims: { iss: id, iat: Math.floor(Date.now() / 1000), ev: 'probe', d: { probe: sq } } },
      this.#key,
    );
    if (!token.ok) {
      this.#o.log(`probe: ${token.error.message}`);
      return;
    }
    this.#pending.set(sq, performance.now());
    this.#sent++;
    client.publish(`${this.#o.prefix}/up/${id}/msg`, token.value, { qos: 1 }, (e) => {
      if (e !== undefined && e !== null) this.#o.log(`probe: publish: ${e.message}`);
    });
  }

  summary(): ProbeSummary {
    const sorted = [...this.#recent].sort((a, b) => a - b);
    const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    return {
      enabled: true,
      id: this.#o.id,
      periodMs: this.#o.periodMs,
      sent: this.#sent,
      received: this.#received,
      lost: this.#lost,
      ...(this.#last !== undefined && { lastMs: this.#last.ms, lastAt: this.#last.at }),
      ...(sorted.length > 0 && { p50Ms: at(0.5), p99Ms: at(0.99) }),
    };
  }

  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#client?.endAsync(true).catch(() => undefined);
  }

  /** The rule the probe goes through; installed again if someone removed it. */
  #ensureRule(): void {
    const engine = this.#o.rules.engine;
    if (this.#jobId !== undefined && engine.list().some((j) => j.jobId === this.#jobId)) return;
    try {
      const info = engine.install({
        headers: { runtime: 'cloud', targetResource: this.#o.id, jobType: 'single-filter' },
        jobConfig: {
          connectors: { input: `${this.#o.prefix}/up/${this.#o.id}/msg`, output: this.topic },
          jobProps: { condition: 'ge', threshold: 0, fieldName: 'probe' },
        },
      });
      engine.start(info.jobId);
      this.#jobId = info.jobId;
    } catch (e) {
      this.#o.log(`probe: rule: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  #back(payload: Payload): void {
    let sq: unknown;
    try {
      sq = (JSON.parse(Buffer.from(payload).toString('utf8')) as { probe?: unknown }).probe;
    } catch {
      return;
    }
    const sentAt = typeof sq === 'number' ? this.#pending.get(sq) : undefined;
    if (sentAt === undefined) return; // not ours (another worker's probe), or already counted lost
    this.#pending.delete(sq as number);
    const ms = performance.now() - sentAt;
    this.#received++;
    this.#last = { ms, at: Date.now() };
    this.#recent.push(ms);
    if (this.#recent.length > WINDOW) this.#recent.shift();
    this.#o.histogram.observe(ms / 1000);
    this.#o.onSample?.(ms);
  }

  #expire(): void {
    const cutoff = performance.now() - (this.#o.timeoutMs ?? Math.max(5000, 10 * this.#o.periodMs));
    for (const [sq, at] of this.#pending) {
      if (at >= cutoff) break; // in send order
      this.#pending.delete(sq);
      this.#lost++;
    }
  }
}
