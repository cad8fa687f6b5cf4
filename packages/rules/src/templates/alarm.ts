/**
 * @module Template `alarm`: evaluate a threshold condition per source (with `forMs`, `mOfN` and a missing-data
 * policy) and emit raise/clear transitions. jobProps are `AlarmRuleProps` (core/alarm-types.ts); every
 * refusal names its field path, e.g. `jobConfig.jobProps.condition.threshold`.
 */
import type { AlarmCondition, MissingData } from '../core/alarm-types.ts';
import { SEVERITIES } from '../core/alarm-types.ts';
import { ALARM_OPS, ALARM_TYPE, EQUALITY_OPS, ORDER_OPS } from '../core/alarm-spec.ts';
import type { AlarmSpec } from '../core/alarm-spec.ts';
import { RuleError } from '../core/errors.ts';
import { parseJsonPath } from '../core/json-path.ts';
import type { FieldPath } from '../core/json-path.ts';
import { ALARM_LIMITS } from '../core/limits.ts';
import type { Plan } from '../core/plan.ts';
import type { JsonObject } from '../core/validate.ts';
import { childPath, expectFinite, expectInteger, expectObject, expectOneOf, expectString, field, typeError, valueError } from '../core/validate.ts';
import type { Template, TemplateInput } from './props.ts';
import { unionSources } from './props.ts';

const MISSING_POLICIES = ['ignore', 'breaching', 'not-breaching', 'last'] as const;

/** A path as alarm props write it: `temp`, `values.rssi`, or a full `$...` path. */
function readPath(props: JsonObject, key: string, path: string): { path: FieldPath; text: string } | null {
  const raw = field(props, key);
  if (raw === undefined) return null;
  const at = childPath(path, key);
  const text = expectString(raw, at, { nonEmpty: true });
  const segments = parseJsonPath(text.startsWith('$') ? text : `$.${text}`, at);
  if (segments.length === 0) throw valueError(at, 'must name a field below $');
  return { path: segments, text };
}

/** A key the op does not take is unknown, as in any object, so a `low` on `>` is caught rather than ignored. */
function refuseKeys(object: JsonObject, path: string, keys: readonly string[], op: string): void {
  for (const key of keys) {
    if (Object.hasOwn(object, key)) {
      throw new RuleError('FERRY_RULES_FIELD_UNKNOWN', `${childPath(path, key)} is not a field of condition ${op}`, { path: childPath(path, key) });
    }
  }
}

function required(object: JsonObject, key: string, path: string, op: string): unknown {
  const value = field(object, key);
  if (value === undefined)
    throw new RuleError('FERRY_RULES_FIELD_REQUIRED', `${childPath(path, key)} is required for condition ${op}`, { path: childPath(path, key) });
  return value;
}

export function readAlarmCondition(value: unknown, path: string): AlarmCondition {
  const object = expectObject(value, path, ['op'], ['threshold', 'low', 'high']);
  const op = expectOneOf(field(object, 'op'), childPath(path, 'op'), ALARM_OPS);
  if (op === 'between' || op === 'outside') {
    refuseKeys(object, path, ['threshold'], op);
    const low = expectFinite(required(object, 'low', path, op), childPath(path, 'low'));
    const high = expectFinite(required(object, 'high', path, op), childPath(path, 'high'));
    if (low > high) throw valueError(childPath(path, 'high'), `must be at least low (${low})`);
    return { op, low, high };
  }
  refuseKeys(object, path, ['low', 'high'], op);
  const threshold = required(object, 'threshold', path, op);
  const at = childPath(path, 'threshold');
  const order = ORDER_OPS.find((o) => o === op);
  if (order !== undefined) {
    if (typeof threshold !== 'number') throw typeError(at, `a number for condition ${op}`, threshold);
    return { op: order, threshold: expectFinite(threshold, at) };
  }
  const equality = EQUALITY_OPS.find((o) => o === op) ?? '==';
  if (typeof threshold === 'number') return { op: equality, threshold: expectFinite(threshold, at) };
  if (typeof threshold === 'string' || typeof threshold === 'boolean') return { op: equality, threshold };
  throw typeError(at, `a number, string or boolean for condition ${op}`, threshold);
}

function readMOfN(value: unknown, path: string): AlarmSpec['mOfN'] {
  if (value === undefined) return null;
  const object = expectObject(value, path, ['m', 'n']);
  const n = expectInteger(field(object, 'n'), childPath(path, 'n'), 1, ALARM_LIMITS.maxN);
  const m = expectInteger(field(object, 'm'), childPath(path, 'm'), 1);
  if (m > n) throw valueError(childPath(path, 'm'), `must be at most n (${n}), got ${m}`);
  return { m, n };
}

function readMissing(value: unknown, path: string): MissingData | null {
  if (value === undefined) return null;
  const object = expectObject(value, path, ['afterMs', 'policy']);
  return {
    afterMs: expectInteger(field(object, 'afterMs'), childPath(path, 'afterMs'), 1, ALARM_LIMITS.maxDurationMs),
    policy: expectOneOf(field(object, 'policy'), childPath(path, 'policy'), MISSING_POLICIES),
  };
}

/** Validates alarm jobProps (already checked for unknown and missing keys) into the spec the operator runs. */
export function readAlarmSpec(props: JsonObject, path: string): AlarmSpec {
  const typeAt = childPath(path, 'type');
  const type = expectString(field(props, 'type'), typeAt);
  if (!ALARM_TYPE.test(type)) throw valueError(typeAt, `must be 1-64 of A-Z a-z 0-9 . _ -, got ${JSON.stringify(type.slice(0, 80))}`);
  const severity = expectOneOf(field(props, 'severity'), childPath(path, 'severity'), SEVERITIES);
  const value = readPath(props, 'value', path);
  if (value === null) throw new RuleError('FERRY_RULES_FIELD_REQUIRED', `${childPath(path, 'value')} is required`, { path: childPath(path, 'value') });
  const source = readPath(props, 'source', path);
  const condition = readAlarmCondition(field(props, 'condition'), childPath(path, 'condition'));
  const forMsValue = field(props, 'forMs');
  const forMs = forMsValue === undefined ? 0 : expectInteger(forMsValue, childPath(path, 'forMs'), 0, ALARM_LIMITS.maxDurationMs);
  return {
    type,
    severity,
    value: value.path,
    valueText: value.text,
    source: source?.path ?? null,
    condition,
    forMs,
    mOfN: readMOfN(field(props, 'mOfN'), childPath(path, 'mOfN')),
    missing: readMissing(field(props, 'missing'), childPath(path, 'missing')),
  };
}

export const alarm: Template = {
  jobType: 'alarm',
  required: ['type', 'severity', 'value', 'condition'],
  optional: ['source', 'forMs', 'mOfN', 'missing'],
  compile(input: TemplateInput): Plan {
    return { kind: 'alarm', sources: unionSources(input), filter: null, alarm: readAlarmSpec(input.props, input.path), sink: { topic: input.output } };
  },
};
