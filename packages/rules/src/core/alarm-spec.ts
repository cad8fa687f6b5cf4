/**
 * @module The compiled form of an alarm rule (jobType `alarm`, props in alarm-types.ts): what the template
 * builds, the plan carries and the alarm operator evaluates, with its bounds check and the comparison of one
 * sample. docs/rules.md, "Alarm rules (jobType alarm)", documents the semantics.
 */
import type { AlarmCondition, MissingData, Severity } from './alarm-types.ts';
import { SEVERITIES } from './alarm-types.ts';
import type { FieldPath } from './json-path.ts';
import { ALARM_LIMITS } from './limits.ts';

export type AlarmOp = AlarmCondition['op'];
export const ORDER_OPS = ['>', '>=', '<', '<='] as const satisfies readonly AlarmOp[];
export const EQUALITY_OPS = ['==', '!='] as const satisfies readonly AlarmOp[];
export const RANGE_OPS = ['between', 'outside'] as const satisfies readonly AlarmOp[];
export const ALARM_OPS: readonly AlarmOp[] = [...ORDER_OPS, ...EQUALITY_OPS, ...RANGE_OPS];

/** An alarm type: 1-64 of [A-Za-z0-9._-]. */
export const ALARM_TYPE = /^[A-Za-z0-9._-]{1,64}$/;

export interface AlarmSpec {
  readonly type: string;
  readonly severity: Severity;
  /** The compared value's path, and its text as the rule wrote it (for reasons). */
  readonly value: FieldPath;
  readonly valueText: string;
  /** The source name's path; null: the topic the record came on. */
  readonly source: FieldPath | null;
  readonly condition: AlarmCondition;
  readonly forMs: number;
  readonly mOfN: { readonly m: number; readonly n: number } | null;
  readonly missing: MissingData | null;
}

const isInt = (value: number, min: number, max: number): boolean => Number.isInteger(value) && value >= min && value <= max;

/** Why a spec breaks a bound the operator relies on, or null; the template reports the same at its own paths. */
export function alarmSpecProblem(spec: AlarmSpec): string | null {
  if (!ALARM_TYPE.test(spec.type)) return 'type must be 1-64 of A-Z a-z 0-9 . _ -';
  if (!SEVERITIES.includes(spec.severity)) return `severity must be one of ${SEVERITIES.join(', ')}`;
  if (spec.value.length === 0) return 'value must name a field below $';
  if (spec.source !== null && spec.source.length === 0) return 'source must name a field below $';
  if (!ALARM_OPS.includes(spec.condition.op)) return `condition.op must be one of ${ALARM_OPS.join(', ')}`;
  if (!isInt(spec.forMs, 0, ALARM_LIMITS.maxDurationMs)) return `forMs must be an integer between 0 and ${ALARM_LIMITS.maxDurationMs}`;
  if (spec.mOfN !== null && !(isInt(spec.mOfN.n, 1, ALARM_LIMITS.maxN) && isInt(spec.mOfN.m, 1, spec.mOfN.n))) {
    return `mOfN must have 1 <= m <= n <= ${ALARM_LIMITS.maxN}`;
  }
  if (spec.missing !== null && !isInt(spec.missing.afterMs, 1, ALARM_LIMITS.maxDurationMs)) {
    return `missing.afterMs must be an integer between 1 and ${ALARM_LIMITS.maxDurationMs}`;
  }
  return null;
}

/**
 * Whether `value` is a sample for the condition: a finite number for the ordering and range ops, a string,
 * finite number or boolean for `==`/`!=`. Anything else (a missing field, null, text for `>`) is not a sample:
 * it neither breaches nor clears, and does not count as data for the missing-data policy.
 */
export function isSample(condition: AlarmCondition, value: unknown): value is number | string | boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (condition.op === '==' || condition.op === '!=') return typeof value === 'string' || typeof value === 'boolean';
  return false;
}

/** Whether a sample breaches the condition (`between`/`outside` include their bounds). */
export function breaches(condition: AlarmCondition, value: number | string | boolean): boolean {
  switch (condition.op) {
    case '==':
      return value === condition.threshold;
    case '!=':
      return value !== condition.threshold;
    case 'between':
      return typeof value === 'number' && value >= condition.low && value <= condition.high;
    case 'outside':
      return typeof value === 'number' && (value < condition.low || value > condition.high);
    case '>':
      return typeof value === 'number' && value > condition.threshold;
    case '>=':
      return typeof value === 'number' && value >= condition.threshold;
    case '<':
      return typeof value === 'number' && value < condition.threshold;
    case '<=':
      return typeof value === 'number' && value <= condition.threshold;
  }
}

/** The condition for people: `temp > 30`, `state == "open"`, `rssi between -90 and -30`, with M of N. */
export function describeCondition(spec: AlarmSpec): string {
  const c = spec.condition;
  const text = 'low' in c ? `${spec.valueText} ${c.op} ${c.low} and ${c.high}` : `${spec.valueText} ${c.op} ${JSON.stringify(c.threshold)}`;
  return spec.mOfN === null ? text : `${text} in ${spec.mOfN.m} of ${spec.mOfN.n} samples`;
}
