/**
 * @module RulesHost: runs the one rule engine inside a daemon (gateway or cloud). Feeds it inputs, publishes
 * its outputs, drives its windows with a timer, and moves jobs to another runtime: stop, snapshot the
 * window state, hand the relocation object over, uninstall — and if the hand-over fails, the job is
 * restored here from the same snapshot, so nothing is lost either way.
 */
import { ApiError } from './errors.ts';
import { RuleEngine, isRuleError, parseRelocation, type JobInfo, type RelocationObject } from '@ferry/rules';

export type OutputSink = (topic: string, payload: unknown) => void;

/** Delivers a relocation object to the target runtime (HTTP to its /api/move, or an MQTT control channel). */
export type MoveTransport = (relocation: RelocationObject) => Promise<unknown>;

export interface RulesHostOptions {
  readonly runtime: string;
  readonly publish: OutputSink;
  readonly now?: () => number;
  /** Default: POST the relocation to `${targetResource}/api/move` when targetResource is an http(s) URL. */
  readonly transport?: MoveTransport;
  readonly onError?: (e: Error) => void;
  /** Recent inputs kept for replay into jobs moved here (default 20,000). */
  readonly replayBuffer?: number;
  /**
   * Which targets a job may be moved to: the reason it may not, or undefined. A move hands the job and its
   * window state to the target, so an arbitrary URL would be a way to make this host POST data anywhere.
   * Default: any.
   */
  readonly moveTarget?: (targetResource: string) => string | undefined;
}

type Recent = { readonly topic: string; readonly record: unknown; readonly atMs: number; readonly id: string };

export const httpTransport: MoveTransport = async (relocation) => {
  const base = relocation.targetResource.replace(/\/+$/, '');
  if (!/^https?:\/\//.test(base))
    throw new Error(`targetResource ${JSON.stringify(relocation.targetResource)} is not an http(s) URL and no other transport is configured`);
  const res = await fetch(`${base}/api/move`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(relocation),
    signal: AbortSignal.timeout(5000),
  });
  const body: unknown = await res.json().catch(() => undefined);
  if (!res.ok) throw new Error(`target refused the job: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body;
};

export class RulesHost {
  readonly engine: RuleEngine;
  private readonly opts: RulesHostOptions;
  private timer: NodeJS.Timeout | undefined;
  /**
   * Every identified input this host received, newest last. Both ends of a move see the same stream
   * (broker fan-out, or the gateway's uplink); inputs that reached this host after the source took its
   * snapshot but before the job arrived here are replayed from this buffer into the moved job, and the
   * ids carried in the snapshot drop anything the source already counted.
   */
  private readonly recent: Recent[] = [];

  constructor(opts: RulesHostOptions) {
    this.opts = opts;
    const now = opts.now ?? Date.now;
    this.engine = new RuleEngine({ runtime: opts.runtime, clock: { now } });
  }

  /** One input record (a reading, or a message from a subscribed topic). Never throws. */
  input(topic: string, record: unknown, atMs: number, inputId?: string): void {
    if (inputId !== undefined) {
      this.recent.push({ topic, record, atMs, id: inputId });
      // Trim in batches of a quarter: splicing one entry off a full buffer on every input copies the
      // whole buffer each time (measured by bench:gateway: 30 µs instead of 2 µs per input).
      const cap = this.opts.replayBuffer ?? 20_000;
      if (this.recent.length > cap + (cap >> 2)) this.recent.splice(0, this.recent.length - cap);
    }
    try {
      for (const o of this.engine.push(topic, record, atMs, inputId)) this.opts.publish(o.topic, o.payload);
    } catch (e) {
      this.opts.onError?.(e as Error);
    }
  }

  /** Closes due time windows; call periodically (start() does). */
  tick(nowMs: number = (this.opts.now ?? Date.now)()): void {
    try {
      for (const o of this.engine.tick(nowMs)) this.opts.publish(o.topic, o.payload);
    } catch (e) {
      this.opts.onError?.(e as Error);
    }
  }

  start(tickMs = 250): void {
    this.timer ??= setInterval(() => this.tick(), tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Moves a job out to `targetRuntime` at `targetResource`; restores it here if the hand-over fails. */
  async moveOut(jobId: string, targetRuntime: string, targetResource: string): Promise<{ relocation: RelocationObject; target: unknown }> {
    const refused = this.opts.moveTarget?.(targetResource);
    if (refused !== undefined) throw new ApiError('FERRY_API_MOVE_TARGET', refused);
    const resourceBefore = this.engine.status(jobId).targetResource;
    const relocation = this.engine.moveOut(jobId, targetRuntime, targetResource);
    try {
      const target = await (this.opts.transport ?? httpTransport)(relocation);
      return { relocation, target };
    } catch (e) {
      // The job left this engine with its state in `relocation`: put it back exactly as it was, on this
      // runtime and at the resource it served, not the target that refused it.
      this.engine.moveIn({ ...relocation, target_runtime: this.engine.runtime, targetResource: resourceBefore });
      throw e;
    }
  }

  /**
   * Accepts a job moved here (install + restore + start if it was running), then replays the inputs this
   * host received after the source's last consumed input, so the hand-over gap loses nothing.
   */
  moveIn(relocation: unknown): JobInfo {
    const info = this.engine.moveIn(relocation);
    const last = parseRelocation(relocation).snapshot?.watermark.lastInputId ?? null;
    const job = this.engine.job(info.jobId);
    if (job.state !== 'RUNNING') return info;
    // Replay what came after the source's last consumed input. If this host has not seen that input yet,
    // it is behind the source: everything after it is still on its way here and will arrive through
    // input(); what arrives that the source already counted is dropped by the snapshot's recent ids (so the
    // engine's dedupe window must cover the lag between the two hosts).
    let from = this.recent.length;
    if (last === null) from = 0;
    else {
      const at = this.recent.findLastIndex((r) => r.id === last);
      if (at >= 0) from = at + 1;
    }
    for (const r of this.recent.slice(from)) {
      if (!job.accepts(r.topic)) continue;
      try {
        for (const o of job.push(r.topic, r.record, r.atMs, r.id)) this.opts.publish(o.topic, o.payload);
      } catch (e) {
        this.opts.onError?.(e as Error);
      }
    }
    return info;
  }
}

export { isRuleError };
