/**
 * @module The typed logical plan shared by the JSON templates and the SQL form, and its invariant check.
 *
 * Shape: source(s) -> filter -> [window/aggregate | join] -> project -> sink. A discriminated union per
 * shape rather than one record of optional stages, so impossible plans (a join with a GROUP BY) do not
 * type-check.
 */
import { alarmSpecProblem } from './alarm-spec.ts';
import type { AlarmSpec } from './alarm-spec.ts';
import { RuleError } from './errors.ts';
import type { FieldPath } from './json-path.ts';
import { topicProblem } from './topic.ts';

export type CompareOp = 'gt' | 'ge' | 'lt' | 'le' | 'eq' | 'ne';
export const COMPARE_OPS: readonly CompareOp[] = ['gt', 'ge', 'lt', 'le', 'eq', 'ne'];
export type Literal = string | number | boolean | null;

/** A field of the record (`input` 0), or of the left (0) / right (1) record of a join. */
export type FieldRef = { readonly input: 0 | 1; readonly path: FieldPath };
export type Operand = { readonly kind: 'field'; readonly ref: FieldRef } | { readonly kind: 'literal'; readonly value: Literal };
export type Predicate =
  | { readonly kind: 'compare'; readonly op: CompareOp; readonly left: Operand; readonly right: Operand }
  | { readonly kind: 'and' | 'or'; readonly left: Predicate; readonly right: Predicate }
  | { readonly kind: 'not'; readonly arg: Predicate };

/** An input topic filter; `alias` names it in SQL (`FROM s1 AS a`), null when unnamed. */
export type Source = { readonly topic: string; readonly alias: string | null };
export type Sink = { readonly topic: string };

export type WindowSpec = {
  readonly type: 'tumbling' | 'sliding';
  readonly unit: 'ms' | 'count';
  readonly size: number;
  /** Equal to `size` for tumbling windows. */
  readonly slide: number;
};

export type AggFn = 'sum' | 'avg' | 'min' | 'max' | 'count';
export const AGG_FNS: readonly AggFn[] = ['sum', 'avg', 'min', 'max', 'count'];
/** One output field of an aggregate: an aggregate call (`ref` null only for count(*)) or the group key. */
export type AggOutput =
  | { readonly kind: 'aggregate'; readonly fn: AggFn; readonly ref: FieldRef | null; readonly as: string }
  | { readonly kind: 'group'; readonly as: string };

export type ProjectItem = { readonly ref: FieldRef; readonly as: string };
/** `all`: the record as is (a join emits the shallow merge left then right). */
export type Projection = { readonly kind: 'all' } | { readonly kind: 'fields'; readonly items: readonly ProjectItem[] };

export type StreamPlan = {
  readonly kind: 'stream';
  readonly sources: readonly Source[];
  readonly filter: Predicate | null;
  readonly project: Projection;
  readonly sink: Sink;
};
export type AggregatePlan = {
  readonly kind: 'aggregate';
  readonly sources: readonly Source[];
  readonly filter: Predicate | null;
  readonly window: WindowSpec;
  readonly groupBy: FieldRef | null;
  readonly outputs: readonly AggOutput[];
  readonly sink: Sink;
};
export type JoinPlan = {
  readonly kind: 'join';
  readonly sources: readonly [Source, Source];
  readonly on: { readonly left: FieldRef; readonly right: FieldRef };
  readonly withinMs: number;
  readonly filter: Predicate | null;
  readonly project: Projection;
  readonly sink: Sink;
};
/** An alarm rule: evaluates `alarm` per source and emits raise/clear transitions (core/alarm-spec.ts). */
export type AlarmPlan = {
  readonly kind: 'alarm';
  readonly sources: readonly Source[];
  readonly filter: null;
  readonly alarm: AlarmSpec;
  readonly sink: Sink;
};
export type Plan = StreamPlan | AggregatePlan | JoinPlan | AlarmPlan;

/** Limits that keep per-record work and state bounded; shared by templates, SQL and this check. */
export const LIMITS = {
  /** Sliding time windows open per record (size / slide). */
  maxWindowsPerRecord: 1000,
  /** Records kept by one count window. */
  maxCountWindow: 10_000,
  /** Longest time window or join interval: 7 days. */
  maxWindowMs: 7 * 24 * 3600 * 1000,
  /**
   * Largest |timestamp| in ms: the ECMAScript time value range (ECMA-262 section 21.4.1.1). Below 2^53,
   * so window arithmetic on integer timestamps is exact and window loops terminate.
   */
  maxTimestampMs: 8.64e15,
} as const;

/** Output field names an aggregate always adds. */
export const WINDOW_FIELDS = ['windowStart', 'windowEnd'] as const;

function invalid(path: string, reason: string): RuleError {
  return new RuleError('FERRY_RULES_PLAN_INVALID', `plan.${path} ${reason}`, { path: `plan.${path}` });
}

/** Why a window spec is out of bounds, or null; templates and SQL call it to report at their own location. */
export function windowProblem(window: WindowSpec): string | null {
  const { size, slide, unit, type } = window;
  if (!Number.isInteger(size) || size < 1) return 'size must be a positive integer';
  if (!Number.isInteger(slide) || slide < 1) return 'slide must be a positive integer';
  if (slide > size) return 'slide must not exceed size';
  if (type === 'tumbling' && slide !== size) return 'a tumbling window slides by its size';
  if (unit === 'ms' && size > LIMITS.maxWindowMs) return `size must be at most ${LIMITS.maxWindowMs} ms`;
  if (unit === 'ms' && size / slide > LIMITS.maxWindowsPerRecord) return `size / slide must be at most ${LIMITS.maxWindowsPerRecord}`;
  if (unit === 'count' && size > LIMITS.maxCountWindow) return `size must be at most ${LIMITS.maxCountWindow} records`;
  return null;
}

function checkRef(ref: FieldRef, path: string, inputs: 1 | 2): void {
  if (ref.input >= inputs) throw invalid(path, `reads input ${ref.input} of a plan with ${inputs} input(s)`);
}

function checkPredicate(predicate: Predicate, path: string, inputs: 1 | 2): void {
  switch (predicate.kind) {
    case 'compare':
      for (const side of ['left', 'right'] as const) {
        const operand = predicate[side];
        if (operand.kind === 'field') checkRef(operand.ref, `${path}.${side}`, inputs);
      }
      return;
    case 'and':
    case 'or':
      checkPredicate(predicate.left, `${path}.left`, inputs);
      checkPredicate(predicate.right, `${path}.right`, inputs);
      return;
    case 'not':
      checkPredicate(predicate.arg, `${path}.arg`, inputs);
  }
}

function checkNames(names: readonly string[], path: string, reserved: readonly string[] = []): void {
  const seen = new Set<string>();
  for (const [index, name] of names.entries()) {
    if (name.length === 0) throw invalid(`${path}[${index}]`, 'has an empty output name');
    if (seen.has(name)) throw invalid(`${path}[${index}]`, `repeats the output name ${JSON.stringify(name)}`);
    if (reserved.includes(name)) throw invalid(`${path}[${index}]`, `uses the reserved output name ${JSON.stringify(name)}`);
    seen.add(name);
  }
}

function checkProjection(project: Projection, inputs: 1 | 2): void {
  if (project.kind === 'all') return;
  if (project.items.length === 0) throw invalid('project.items', 'must not be empty');
  project.items.forEach((item, index) => {
    checkRef(item.ref, `project.items[${index}]`, inputs);
  });
  checkNames(
    project.items.map((item) => item.as),
    'project.items',
  );
}

/** Throws FERRY_RULES_PLAN_INVALID when a plan breaks an invariant the operators rely on. */
export function checkPlan(plan: Plan): Plan {
  const inputs = plan.kind === 'join' ? 2 : 1;
  if (plan.sources.length === 0) throw invalid('sources', 'must name at least one input topic');
  plan.sources.forEach((source, index) => {
    const problem = topicProblem(source.topic, 'filter');
    if (problem !== null) throw invalid(`sources[${index}].topic`, problem);
  });
  const sinkProblem = topicProblem(plan.sink.topic, 'name');
  if (sinkProblem !== null) throw invalid('sink.topic', sinkProblem);
  if (plan.filter !== null) checkPredicate(plan.filter, 'filter', inputs);
  switch (plan.kind) {
    case 'stream':
      checkProjection(plan.project, 1);
      break;
    case 'aggregate': {
      const problem = windowProblem(plan.window);
      if (problem !== null) throw invalid('window', problem);
      if (!plan.outputs.some((output) => output.kind === 'aggregate')) throw invalid('outputs', 'must contain an aggregate');
      plan.outputs.forEach((output, index) => {
        if (output.kind === 'group' && plan.groupBy === null) throw invalid(`outputs[${index}]`, 'names the group key without groupBy');
        if (output.kind === 'aggregate' && output.ref === null && output.fn !== 'count') {
          throw invalid(`outputs[${index}]`, `${output.fn} needs a field`);
        }
        if (output.kind === 'aggregate' && output.ref !== null) checkRef(output.ref, `outputs[${index}]`, 1);
      });
      if (plan.groupBy !== null) checkRef(plan.groupBy, 'groupBy', 1);
      checkNames(
        plan.outputs.map((output) => output.as),
        'outputs',
        WINDOW_FIELDS,
      );
      break;
    }
    case 'join':
      if (plan.sources.length !== 2) throw invalid('sources', 'of a join must name exactly two inputs');
      if (!Number.isInteger(plan.withinMs) || plan.withinMs < 1 || plan.withinMs > LIMITS.maxWindowMs) {
        throw invalid('withinMs', `must be an integer between 1 and ${LIMITS.maxWindowMs}`);
      }
      if (plan.on.left.input !== 0 || plan.on.right.input !== 1) throw invalid('on', 'must read the left key from input 0 and the right key from input 1');
      checkProjection(plan.project, 2);
      break;
    case 'alarm': {
      const problem = alarmSpecProblem(plan.alarm);
      if (problem !== null) throw invalid('alarm', problem);
    }
  }
  return plan;
}

/** Canonical JSON (sorted keys): the identity a snapshot records so it is restored only into the same plan. */
export function planKey(plan: Plan): string {
  return stableStringify(plan);
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableStringify(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
