/**
 * @module RulesHost: runs the one rule engine inside a daemon (gateway or cloud). Feeds it inputs, publishes
 * its outputs, drives its windows with a timer, and moves jobs to another runtime: stop, snapshot the
 * window state, hand the relocation object over, uninstall — and if the hand-over fails, the job is
 * restored here from the same snapshot, so nothing is lost either way.
 */
import { RuleEngine, isRuleError, type JobInfo, type RelocationObject } from '@ferry/rules';

export interface OutputSink {
  (topic: string, payload: unknown): void;
}

/** Delivers a relocation object to the target runtime (HTTP to its /api/move, or an MQTT control channel). */
export type MoveTransport = (relocation: RelocationObject) => Promise<unknown>;

export interface RulesHostOptions {
  readonly runtime: string;
  readonly publish: OutputSink;
  readonly now?: () => number;
  /** Default: POST the relocation to `${targetResource}/api/move` when targetResource is an http(s) URL. */
  readonly transport?: MoveTransport;
  readonly onError?: (e: Error) => void;
}

export const httpTransport: MoveTransport = async (relocation) => {
  const base = relocation.targetResource.replace(/\/+$/, '');
  if (!/^https?:\/\//.test(base)) throw new Error(`targetResource ${JSON.stringify(relocation.targetResource)} is not an http(s) URL and no other transport is configured`);
  const res = await fetch(`${base}/api/move`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(relocation), signal: AbortSignal.timeout(5000) });
  const body: unknown = await res.json().catch(() => undefined);
  if (!res.ok) throw new Error(`target refused the job: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body;
};

export class RulesHost {
  readonly engine: RuleEngine;
  private readonly opts: RulesHostOptions;
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: RulesHostOptions) {
    this.opts = opts;
    const now = opts.now ?? Date.now;
    this.engine = new RuleEngine({ runtime: opts.runtime, clock: { now } });
  }

  /** One input record (a reading, or a message from a subscribed topic). Never throws. */
  input(topic: string, record: unknown, atMs: number, inputId?: string): void {
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
    const relocation = this.engine.moveOut(jobId, targetRuntime, targetResource);
    try {
      const target = await (this.opts.transport ?? httpTransport)(relocation);
      return { relocation, target };
    } catch (e) {
      // The job left this engine with its state in `relocation`: put it back exactly as it was.
      this.engine.moveIn({ ...relocation, target_runtime: this.engine.runtime });
      throw e;
    }
  }

  /** Accepts a job moved here (install + restore + start if it was running). */
  moveIn(relocation: unknown): JobInfo {
    return this.engine.moveIn(relocation);
  }
}

export { isRuleError };
