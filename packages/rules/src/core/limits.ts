/**
 * @module Resource caps of the rule engine. A rule is untrusted input: a self-join, a window grouped by a
 * high-cardinality field or a rule feeding its own input can turn a few records into millions of outputs or
 * minutes of CPU. Each cap below is checked where the state grows; a job that hits one is stopped with
 * FERRY_RULES_LIMIT (its status names the cap), never the host. docs/rules.md, "Limits", lists them.
 */
import { RuleError } from './errors.ts';

export interface RuleLimits {
  /** Records one side of a join holds. */
  readonly maxJoinBuffer: number;
  /** Groups one window holds (GROUP BY keys of a time window, or of a count window). */
  readonly maxGroups: number;
  /** Outputs one input may produce (join matches). */
  readonly maxOutputsPerInput: number;
  /** Jobs one engine holds. */
  readonly maxJobs: number;
  /**
   * Sources one alarm job tracks. A new source past it evicts the least recently sampled source that is not
   * raised; when every tracked source is raised the job stops with FERRY_RULES_LIMIT.
   */
  readonly maxAlarmSources: number;
}

export const RULE_LIMITS: RuleLimits = {
  maxJoinBuffer: 10_000,
  maxGroups: 10_000,
  maxOutputsPerInput: 1_000,
  maxJobs: 256,
  maxAlarmSources: 10_000,
};

/** Bounds of an alarm rule's props (jobType `alarm`), checked at install; docs/rules.md, "Alarm rules". */
export const ALARM_LIMITS = {
  /** Largest `n` of `mOfN`: the ring of outcomes each source keeps. */
  maxN: 1000,
  /** Longest `forMs` and `missing.afterMs`: 7 days, as windows. */
  maxDurationMs: 7 * 24 * 3600 * 1000,
  /** Longest source name; a record naming a longer one is not a sample. */
  maxSourceLength: 256,
} as const;

export const withDefaults = (limits: Partial<RuleLimits> | undefined): RuleLimits => ({ ...RULE_LIMITS, ...limits });

/** The error a job stops with when its state would pass a cap. */
export const limitError = (cap: keyof RuleLimits, detail: string): RuleError => new RuleError('FERRY_RULES_LIMIT', `${detail} (${cap})`);
