/**
 * @module Template `aggregation`: sum/avg/min/max/count of a field over tumbling or sliding windows,
 * by time (ms) or by record count, optionally per group.
 *
 * jobProps: { function, window: { type, size, slide?, unit }, fieldName | fieldJsonPath (not for count),
 * groupBy | groupByJsonPath?, condition + threshold? (pre-filter on the same field), outputField? }.
 * Output: { [group name]?, [outputField = function]: value, windowStart, windowEnd }.
 */
import { comparison } from '../core/expr.ts';
import type { AggFn, AggOutput, Plan, WindowSpec } from '../core/plan.ts';
import { AGG_FNS, LIMITS, WINDOW_FIELDS } from '../core/plan.ts';
import { childPath, expectInteger, expectObject, expectOneOf, expectString, field, valueError } from '../core/validate.ts';
import type { Template, TemplateInput } from './props.ts';
import { readCondition, readFieldPath, requireFieldPath, unionSources } from './props.ts';

function readWindow(value: unknown, path: string): WindowSpec {
  const window = expectObject(value, path, ['type', 'size', 'unit'], ['slide']);
  const type = expectOneOf(field(window, 'type'), childPath(path, 'type'), ['tumbling', 'sliding'] as const);
  const unit = expectOneOf(field(window, 'unit'), childPath(path, 'unit'), ['ms', 'count'] as const);
  const max = unit === 'ms' ? LIMITS.maxWindowMs : LIMITS.maxCountWindow;
  const size = expectInteger(field(window, 'size'), childPath(path, 'size'), 1, max);
  const slideValue = field(window, 'slide');
  if (type === 'tumbling') {
    if (slideValue !== undefined) throw valueError(childPath(path, 'slide'), 'applies to sliding windows only; a tumbling window slides by its size');
    return { type, unit, size, slide: size };
  }
  if (slideValue === undefined) throw valueError(childPath(path, 'slide'), 'is required for a sliding window');
  const slide = expectInteger(slideValue, childPath(path, 'slide'), 1, size);
  if (unit === 'ms' && size / slide > LIMITS.maxWindowsPerRecord) {
    throw valueError(childPath(path, 'slide'), `must be at least size / ${LIMITS.maxWindowsPerRecord} (each record joins size / slide windows)`);
  }
  return { type, unit, size, slide };
}

export const aggregation: Template = {
  jobType: 'aggregation',
  required: ['function', 'window'],
  optional: ['fieldName', 'fieldJsonPath', 'groupBy', 'groupByJsonPath', 'condition', 'threshold', 'outputField'],
  compile(input: TemplateInput): Plan {
    const { props, path } = input;
    const fn: AggFn = expectOneOf(field(props, 'function'), childPath(path, 'function'), AGG_FNS);
    const window = readWindow(field(props, 'window'), childPath(path, 'window'));
    const target = fn === 'count' ? readFieldPath(props, path, 'fieldName', 'fieldJsonPath') : requireFieldPath(props, path, 'fieldName', 'fieldJsonPath');
    const condition = readCondition(props, path);
    if (condition !== null && target === null) throw valueError(childPath(path, 'condition'), 'needs fieldName or fieldJsonPath to compare');
    const group = readFieldPath(props, path, 'groupBy', 'groupByJsonPath');
    const outputValue = field(props, 'outputField');
    const outputField = outputValue === undefined ? fn : expectString(outputValue, childPath(path, 'outputField'), { nonEmpty: true });
    const outputs: AggOutput[] = [];
    if (group !== null) outputs.push({ kind: 'group', as: group.name });
    outputs.push({ kind: 'aggregate', fn, ref: target === null ? null : { input: 0, path: target.path }, as: outputField });
    const names = outputs.map((output) => output.as);
    if (new Set(names).size !== names.length || names.some((name) => (WINDOW_FIELDS as readonly string[]).includes(name))) {
      throw valueError(childPath(path, 'outputField'), `must differ from the group field and from ${WINDOW_FIELDS.join(', ')}`);
    }
    return {
      kind: 'aggregate',
      sources: unionSources(input),
      filter: condition === null || target === null ? null : comparison(condition.op, { input: 0, path: target.path }, condition.threshold),
      window,
      groupBy: group === null ? null : { input: 0, path: group.path },
      outputs,
      sink: { topic: input.output },
    };
  },
};
