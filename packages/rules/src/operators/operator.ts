/**
 * @module The contract between a job and its operator, and the one table that builds an operator per plan kind.
 *
 * Time is owned by the job (its watermark); an operator is told when time moves (`advance`) and asked
 * whether a timestamp is already behind what it has closed (`isLate`). That split keeps every operator
 * a pure function of (state, input) and its state a plain JSON value for snapshots.
 */
import type { RuleLimits } from '../core/limits.ts';
import type { Plan } from '../core/plan.ts';
import { AlarmOperator } from './alarm.ts';
import { CountWindowOperator } from './count-window.ts';
import { JoinOperator } from './join.ts';
import { StreamOperator } from './stream.ts';
import { TimeWindowOperator } from './time-window.ts';

/** A result before it is addressed to the sink; `eventTimeMs` feeds the job's latency counter. */
export type Emitted = { readonly payload: unknown; readonly eventTimeMs: number };

export type Accepted = {
  /** True when the record was consumed without contributing (WHERE false). */
  readonly filtered: boolean;
  readonly emitted: readonly Emitted[];
};

export type Operator = {
  /** Whether a record stamped `timestampMs` can no longer contribute, given the job's time. */
  isLate(timestampMs: number, timeMs: number | null): boolean;
  /** Time moved forward to `timeMs`: close windows / evict buffers, returning what closed. */
  advance(timeMs: number): readonly Emitted[];
  /**
   * Processes one routed, non-late record after `advance(timeMs)`. `inputs` lists which plan inputs the
   * topic matched (a join may see a record on both sides). Throws a RuleError before changing any state
   * when evaluation fails. `topic` is the one the record came on (an alarm names its source by it).
   */
  accept(inputs: readonly (0 | 1)[], record: unknown, timestampMs: number, timeMs: number, topic: string): Accepted;
  /** A JSON value holding all of the operator's state. */
  snapshot(): unknown;
  /** Replaces the state with a snapshot's; validates it first (it may come from another runtime) and throws FERRY_RULES_FIELD_* errors naming the path. */
  restore(state: unknown, path: string): void;
  /**
   * Forgets what the operator concluded about the keys `match` picks, as if their condition had never held (an
   * alarm cleared by hand); answers how many it reset. Operators without such keys have none.
   */
  reset?(match: (key: string) => boolean): number;
};

/** `jobId` names the job in what its operator emits (an alarm transition's `rule`). */
export function createOperator(plan: Plan, limits: RuleLimits, jobId: string): Operator {
  switch (plan.kind) {
    case 'stream':
      return new StreamOperator(plan);
    case 'aggregate':
      return plan.window.unit === 'ms' ? new TimeWindowOperator(plan, limits) : new CountWindowOperator(plan, limits);
    case 'join':
      return new JoinOperator(plan, limits);
    case 'alarm':
      return new AlarmOperator(plan, limits, jobId);
  }
}
