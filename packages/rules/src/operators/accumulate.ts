/**
 * @module Aggregate accumulators (sum/avg/min/max/count) shared by time and count windows, and their output record.
 *
 * An accumulator is a JSON pair [n, v] so window state snapshots as-is: n counts contributions, v holds
 * the running sum (sum, avg), extreme (min, max) or 0 (count).
 */
import { RuleError } from '../core/errors.ts';
import { evalPredicate, lookup, readKey, readNumber } from '../core/expr.ts';
import { MISSING } from '../core/json-path.ts';
import type { AggFn, AggOutput, AggregatePlan } from '../core/plan.ts';
import { expectArray, expectFinite, expectInteger } from '../core/validate.ts';

export type Acc = readonly [n: number, v: number];
/** What one record adds to one aggregate; null for count(field) when the field is missing or null. */
export type Contribution = number | null;
export type AggregateCall = Extract<AggOutput, { kind: 'aggregate' }>;

export function aggregateCalls(plan: AggregatePlan): AggregateCall[] {
  return plan.outputs.filter((output): output is AggregateCall => output.kind === 'aggregate');
}

/** A record's group key (JSON text, null without GROUP BY) and contributions; null when WHERE rejects it. */
export type Evaluated = { readonly key: string | null; readonly contributions: readonly Contribution[] };

/** Evaluates everything a record needs before any state changes, so an error leaves state untouched. */
export function evaluate(plan: AggregatePlan, calls: readonly AggregateCall[], record: unknown): Evaluated | null {
  const inputs = [record];
  if (plan.filter !== null && !evalPredicate(plan.filter, inputs)) return null;
  const key = plan.groupBy === null ? null : readKey(plan.groupBy, inputs);
  const contributions = calls.map((call): Contribution => {
    if (call.ref === null) return 1; // count(*)
    if (call.fn === 'count') {
      const value = lookup(call.ref, inputs);
      return value === MISSING || value === null ? null : 1;
    }
    return readNumber(call.ref, inputs);
  });
  return { key, contributions };
}

export function emptyAcc(): Acc {
  return [0, 0];
}

export function addToAcc(fn: AggFn, acc: Acc, contribution: Contribution): Acc {
  if (contribution === null) return acc;
  const [n, v] = acc;
  let next: number;
  switch (fn) {
    case 'count':
      next = 0;
      break;
    case 'sum':
    case 'avg':
      next = v + contribution;
      break;
    case 'min':
      next = n === 0 ? contribution : Math.min(v, contribution);
      break;
    case 'max':
      next = n === 0 ? contribution : Math.max(v, contribution);
      break;
  }
  // A non-finite sum would also not survive JSON (Infinity -> null), so it is refused as the record's error.
  if (!Number.isFinite(next)) throw new RuleError('FERRY_RULES_EVAL_OVERFLOW', `${fn} would leave the finite number range`);
  return [n + 1, next];
}

export function addAll(calls: readonly AggregateCall[], accs: readonly Acc[], contributions: readonly Contribution[]): Acc[] {
  return calls.map((call, index) => addToAcc(call.fn, accs[index] ?? emptyAcc(), contributions[index] ?? null));
}

/** The aggregate's value; null when nothing contributed (only possible for min/max/avg next to count(field)). */
export function finalize(fn: AggFn, acc: Acc): number | null {
  const [n, v] = acc;
  if (fn === 'count') return n;
  if (n === 0) return null;
  return fn === 'avg' ? v / n : v;
}

/** The output record, fields in SELECT order, then windowStart and windowEnd. */
export function buildPayload(plan: AggregatePlan, accs: readonly Acc[], key: string | null, windowStart: number, windowEnd: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let callIndex = 0;
  for (const output of plan.outputs) {
    if (output.kind === 'group') {
      out[output.as] = key === null ? null : JSON.parse(key);
    } else {
      out[output.as] = finalize(output.fn, accs[callIndex] ?? emptyAcc());
      callIndex += 1;
    }
  }
  out['windowStart'] = windowStart;
  out['windowEnd'] = windowEnd;
  return out;
}

export function restoreAccs(value: unknown, path: string, count: number): Acc[] {
  const items = expectArray(value, path);
  if (items.length !== count) throw new RuleError('FERRY_RULES_SNAPSHOT_INVALID', `${path} must hold ${count} accumulators`, { path });
  return items.map((item, index) => {
    const pair = expectArray(item, `${path}[${index}]`);
    if (pair.length !== 2) throw new RuleError('FERRY_RULES_SNAPSHOT_INVALID', `${path}[${index}] must be [n, v]`, { path: `${path}[${index}]` });
    return [expectInteger(pair[0], `${path}[${index}][0]`, 0), expectFinite(pair[1], `${path}[${index}][1]`)] as const;
  });
}

export function restoreKey(value: unknown, path: string, grouped: boolean): string | null {
  if (!grouped) {
    if (value !== null) throw new RuleError('FERRY_RULES_SNAPSHOT_INVALID', `${path} must be null without GROUP BY`, { path });
    return null;
  }
  if (typeof value !== 'string') throw new RuleError('FERRY_RULES_SNAPSHOT_INVALID', `${path} must be a JSON text group key`, { path });
  try {
    JSON.parse(value);
  } catch {
    throw new RuleError('FERRY_RULES_SNAPSHOT_INVALID', `${path} is not JSON text`, { path });
  }
  return value;
}
