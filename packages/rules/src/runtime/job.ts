/**
 * @module RuleJob: one plan's operator behind the lifecycle state machine, with counters, a watermark,
 * error containment and snapshot/restore for moving a rule between runtimes.
 *
 * `push` and `tick` never throw: an evaluation error is counted, and more than `errorLimit` consecutive
 * errors stop the job with a failure reason. Time only moves while RUNNING, so a stopped job's snapshot
 * is a consistent cut of the stream: everything before the watermark is in it, nothing after.
 */
import type { Clock } from '@ferry/base';
import { RuleError } from '../core/errors.ts';
import { checkPlan, LIMITS, planKey } from '../core/plan.ts';
import type { Plan } from '../core/plan.ts';
import { withDefaults, type RuleLimits } from '../core/limits.ts';
import { createOperator } from '../operators/operator.ts';
import type { Emitted, Operator } from '../operators/operator.ts';
import { topicMatches } from '../core/topic.ts';
import { asSnapshotError, parseSnapshot, SNAPSHOT_FORMAT, zeroCounters } from './snapshot.ts';
import type { Counters, DropCounters, ErrorInfo, JobSnapshot, Watermark } from './snapshot.ts';
import { transition } from './state.ts';
import type { JobState, LifecycleCommand } from './state.ts';

export type OutputRecord = { readonly topic: string; readonly payload: unknown };

export type JobOptions = {
  /** Wall clock, used for latency and failure timestamps only (never for window logic). */
  readonly clock: Pick<Clock, 'now'>;
  /** Consecutive evaluation errors tolerated; one more stops the job. Default 100; Infinity never stops. */
  readonly errorLimit?: number;
  /** How many recent input ids are remembered to drop redeliveries. Default 1024. */
  readonly dedupeWindow?: number;
  /** Names the job in error messages. */
  readonly jobId?: string;
  /** Resource caps (defaults: RULE_LIMITS); passing one stops the job with FERRY_RULES_LIMIT. */
  readonly limits?: Partial<RuleLimits>;
};

export type JobStatus = {
  readonly state: JobState;
  readonly counters: Counters;
  readonly watermark: Watermark;
  readonly consecutiveErrors: number;
  /** Set when the job stopped itself; cleared by the next start. */
  readonly failure: ErrorInfo | null;
  readonly lastError: ErrorInfo | null;
};

export const DEFAULT_ERROR_LIMIT = 100;
export const DEFAULT_DEDUPE_WINDOW = 1024;

export class RuleJob {
  readonly plan: Plan;
  readonly #key: string;
  readonly #operator: Operator;
  readonly #clock: Pick<Clock, 'now'>;
  readonly #errorLimit: number;
  readonly #dedupeWindow: number;
  readonly #jobId: string;
  #state: JobState = 'INSTALLED';
  #counters: Counters = zeroCounters();
  #watermark: Watermark = { timeMs: null, seq: 0, lastInputId: null, lastInputTimestampMs: null };
  /** Recent input ids in arrival order (array, for the snapshot) mirrored by a set (for lookups). */
  #recentIds: string[] = [];
  #recentSet = new Set<string>();
  #consecutiveErrors = 0;
  #failure: ErrorInfo | null = null;
  #lastError: ErrorInfo | null = null;

  constructor(plan: Plan, options: JobOptions) {
    this.plan = checkPlan(plan);
    this.#key = planKey(plan);
    this.#jobId = options.jobId ?? 'job';
    this.#operator = createOperator(plan, withDefaults(options.limits), this.#jobId);
    this.#clock = options.clock;
    this.#errorLimit = options.errorLimit ?? DEFAULT_ERROR_LIMIT;
    this.#dedupeWindow = options.dedupeWindow ?? DEFAULT_DEDUPE_WINDOW;
    if (!(this.#errorLimit >= 0)) throw new RuleError('FERRY_RULES_FIELD_VALUE', 'errorLimit must be >= 0', { path: 'errorLimit' });
    if (!Number.isInteger(this.#dedupeWindow) || this.#dedupeWindow < 0) {
      throw new RuleError('FERRY_RULES_FIELD_VALUE', 'dedupeWindow must be a non-negative integer', { path: 'dedupeWindow' });
    }
  }

  get state(): JobState {
    return this.#state;
  }

  /**
   * Starting after a failure clears it and grants a fresh error budget. A plain stop/start (as in a move)
   * keeps the error streak, so a moved job fails exactly where an unmoved one would.
   */
  start(): void {
    this.#apply('start');
    if (this.#failure !== null) {
      this.#failure = null;
      this.#consecutiveErrors = 0;
    }
  }

  stop(): void {
    this.#apply('stop');
  }

  uninstall(): void {
    this.#apply('uninstall');
  }

  #apply(command: LifecycleCommand): void {
    this.#state = transition(this.#state, command, this.#jobId);
  }

  /** Whether `topic` feeds any of the plan's inputs (hosts use it to route). */
  accepts(topic: string): boolean {
    return this.plan.sources.some((source) => topicMatches(source.topic, topic));
  }

  /**
   * Processes one input and returns what it emits (including windows its timestamp closed). `inputId`
   * (e.g. "source/epoch/seq") lets the job drop a redelivery of an input it already consumed.
   */
  push(topic: string, record: unknown, timestampMs: number, inputId?: string): OutputRecord[] {
    this.#counters.in += 1;
    if (this.#state !== 'RUNNING') return this.#drop('inactive');
    if (!isTimestamp(timestampMs)) {
      this.#error(new RuleError('FERRY_RULES_EVAL_INPUT', `timestamp must be a number of ms within ±${LIMITS.maxTimestampMs}, got ${String(timestampMs)}`));
      return [];
    }
    if (inputId !== undefined && this.#recentSet.has(inputId)) return this.#drop('duplicate');
    this.#consume(inputId, timestampMs);
    const inputs = this.plan.sources.flatMap((source, index) => (topicMatches(source.topic, topic) ? ([index === 0 ? 0 : 1] as const) : []));
    if (inputs.length === 0) return this.#drop('unrouted');
    // Stream and aggregate plans union their sources: one match is enough, the record is processed once.
    const routed = this.plan.kind === 'join' ? inputs : [0 as const];
    if (this.#operator.isLate(timestampMs, this.#watermark.timeMs)) return this.#drop('late');
    const emitted = [...this.#advance(timestampMs)];
    try {
      const accepted = this.#operator.accept(routed, record, timestampMs, this.#watermark.timeMs ?? timestampMs, topic);
      this.#consecutiveErrors = 0;
      if (accepted.filtered) this.#drop('filtered');
      emitted.push(...accepted.emitted);
    } catch (error) {
      this.#error(error);
    }
    return this.#deliver(emitted);
  }

  /** Moves the job's time to `nowMs` (from the host's injected clock), closing due time windows. */
  tick(nowMs: number): OutputRecord[] {
    if (this.#state !== 'RUNNING' || !isTimestamp(nowMs)) return [];
    return this.#deliver(this.#advance(nowMs));
  }

  #advance(timeMs: number): readonly Emitted[] {
    if (this.#watermark.timeMs !== null && timeMs <= this.#watermark.timeMs) return [];
    this.#watermark.timeMs = timeMs;
    return this.#operator.advance(timeMs);
  }

  #consume(inputId: string | undefined, timestampMs: number): void {
    this.#watermark.seq += 1;
    this.#watermark.lastInputTimestampMs = timestampMs;
    this.#watermark.lastInputId = inputId ?? null;
    if (inputId === undefined || this.#dedupeWindow === 0) return;
    this.#recentIds.push(inputId);
    this.#recentSet.add(inputId);
    while (this.#recentIds.length > this.#dedupeWindow) {
      const evicted = this.#recentIds.shift();
      if (evicted !== undefined) this.#recentSet.delete(evicted);
    }
  }

  #drop(reason: keyof DropCounters): OutputRecord[] {
    this.#counters.dropped += 1;
    this.#counters.drops[reason] += 1;
    return [];
  }

  #error(error: unknown): void {
    const ruleError = error instanceof RuleError ? error : new RuleError('FERRY_RULES_EVAL_UNEXPECTED', error instanceof Error ? error.message : String(error));
    const atMs = this.#clock.now();
    this.#counters.errors += 1;
    this.#consecutiveErrors += 1;
    this.#lastError = { code: ruleError.code, numeric: ruleError.num, message: ruleError.message, atMs };
    if (ruleError.code === 'FERRY_RULES_LIMIT' && this.#state === 'RUNNING') {
      // A cap is not a bad record that the next good one makes up for: the rule itself is too costly.
      this.#failure = this.#lastError;
      this.#apply('stop');
      return;
    }
    if (this.#consecutiveErrors > this.#errorLimit && this.#state === 'RUNNING') {
      const failed = new RuleError(
        'FERRY_RULES_JOB_FAILED',
        `${this.#jobId} stopped after ${this.#consecutiveErrors} consecutive errors; last: ${ruleError.code}: ${ruleError.message}`,
      );
      this.#failure = { code: failed.code, numeric: failed.num, message: failed.message, atMs };
      this.#apply('stop');
    }
  }

  #deliver(emitted: readonly Emitted[]): OutputRecord[] {
    if (emitted.length === 0) return [];
    const now = this.#clock.now();
    const last = emitted[emitted.length - 1];
    this.#counters.out += emitted.length;
    if (last !== undefined) this.#counters.lastLatencyMs = now - last.eventTimeMs;
    return emitted.map((item) => ({ topic: this.plan.sink.topic, payload: item.payload }));
  }

  status(): JobStatus {
    return structuredCopy({
      state: this.#state,
      counters: this.#counters,
      watermark: this.#watermark,
      consecutiveErrors: this.#consecutiveErrors,
      failure: this.#failure,
      lastError: this.#lastError,
    });
  }

  /** Resets the operator's keys `match` picks (Operator.reset: an alarm job's sources); answers how many. */
  resetSources(match: (key: string) => boolean): number {
    if (this.#state === 'UNINSTALLED') throw new RuleError('FERRY_RULES_INVALID_TRANSITION', `cannot reset ${this.#jobId}: it is uninstalled`);
    return this.#operator.reset?.(match) ?? 0;
  }

  /** A JSON copy of all state; take it after `stop()` for a move so no input slips in between. */
  snapshot(): JobSnapshot {
    if (this.#state === 'UNINSTALLED') throw new RuleError('FERRY_RULES_INVALID_TRANSITION', `cannot snapshot ${this.#jobId}: it is uninstalled`);
    return structuredCopy({
      format: SNAPSHOT_FORMAT,
      plan: this.#key,
      state: this.#state,
      failure: this.#failure,
      lastError: this.#lastError,
      consecutiveErrors: this.#consecutiveErrors,
      counters: this.#counters,
      watermark: this.#watermark,
      recentIds: this.#recentIds,
      operator: this.#operator.snapshot(),
    });
  }

  /** Loads a snapshot into this job, which must be INSTALLED (never started); all or nothing. */
  restore(snapshot: unknown): void {
    if (this.#state !== 'INSTALLED') {
      throw new RuleError('FERRY_RULES_INVALID_TRANSITION', `cannot restore into ${this.#jobId} while ${this.#state}; restore into a freshly installed job`);
    }
    let copy: unknown;
    try {
      copy = structuredCopy(snapshot);
    } catch {
      throw new RuleError('FERRY_RULES_SNAPSHOT_INVALID', 'snapshot is not JSON-serialisable', { path: 'snapshot' });
    }
    const parsed = parseSnapshot(copy);
    if (parsed.plan !== this.#key) {
      throw new RuleError('FERRY_RULES_SNAPSHOT_MISMATCH', `snapshot was taken from a different plan than ${this.#jobId}'s`, { path: 'snapshot.plan' });
    }
    try {
      // The operator validates before it replaces anything, so a bad snapshot leaves this job untouched.
      this.#operator.restore(parsed.operator, 'snapshot.operator');
    } catch (error) {
      throw asSnapshotError(error);
    }
    this.#counters = parsed.counters;
    this.#watermark = parsed.watermark;
    // Keep the newest ids this job's window holds; the source runtime may have remembered more.
    this.#recentIds = this.#dedupeWindow === 0 ? [] : parsed.recentIds.slice(-this.#dedupeWindow);
    this.#recentSet = new Set(this.#recentIds);
    this.#consecutiveErrors = parsed.consecutiveErrors;
    this.#failure = parsed.failure;
    this.#lastError = parsed.lastError;
  }
}

function isTimestamp(value: unknown): value is number {
  return typeof value === 'number' && Math.abs(value) <= LIMITS.maxTimestampMs;
}

/** JSON round trip: snapshots and status are plain data the caller may keep or send. */
function structuredCopy<T>(value: T): T {
  if (value === undefined) return value;
  return JSON.parse(JSON.stringify(value)) as T;
}
