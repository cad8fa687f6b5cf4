/**
 * @module jobProps readers shared by the templates: the field (fieldName | fieldJsonPath) and the
 * condition/threshold pair, each failing with the exact jobProps path.
 */
import { RuleError } from '../core/errors.ts';
import { lastName, parseJsonPath } from '../core/json-path.ts';
import type { FieldPath } from '../core/json-path.ts';
import type { CompareOp, Literal, Plan, Source } from '../core/plan.ts';
import { COMPARE_OPS } from '../core/plan.ts';
import { childPath, expectOneOf, expectString, field, typeError, valueError } from '../core/validate.ts';
import type { JsonObject } from '../core/validate.ts';

/** What every template compiles from: validated jobProps object plus the connectors. */
export type TemplateInput = {
  readonly props: JsonObject;
  /** Path of jobProps, e.g. `jobConfig.jobProps`. */
  readonly path: string;
  readonly inputs: readonly string[];
  /** Path of connectors.input, for errors about the number of inputs. */
  readonly inputPath: string;
  readonly output: string;
};

export type Template = {
  readonly jobType: string;
  /** jobProps keys: required ones, then optional ones. */
  readonly required: readonly string[];
  readonly optional: readonly string[];
  compile(input: TemplateInput): Plan;
};

/** A named field: `{name}Name` or `{name}JsonPath` (e.g. fieldName / fieldJsonPath), at most one. */
export type NamedField = { readonly path: FieldPath; readonly name: string };

export function readFieldPath(props: JsonObject, path: string, nameKey: string, pathKey: string): NamedField | null {
  const name = field(props, nameKey);
  const jsonPath = field(props, pathKey);
  if (name !== undefined && jsonPath !== undefined) throw valueError(childPath(path, pathKey), `cannot be combined with ${nameKey}; give one of them`);
  if (name !== undefined) {
    const text = expectString(name, childPath(path, nameKey), { nonEmpty: true });
    return { path: [text], name: text };
  }
  if (jsonPath !== undefined) {
    const at = childPath(path, pathKey);
    const segments = parseJsonPath(expectString(jsonPath, at), at);
    if (segments.length === 0) throw valueError(at, 'must name a field below $');
    return { path: segments, name: lastName(segments) ?? nameKey.replace(/Name$/, '') };
  }
  return null;
}

export function requireFieldPath(props: JsonObject, path: string, nameKey: string, pathKey: string): NamedField {
  const found = readFieldPath(props, path, nameKey, pathKey);
  if (found === null) {
    throw new RuleError('FERRY_RULES_FIELD_REQUIRED', `${childPath(path, nameKey)} or ${pathKey} is required`, { path: childPath(path, nameKey) });
  }
  return found;
}

/** condition + threshold, both or neither. Ordering conditions need a number or string threshold. */
export type Condition = { readonly op: CompareOp; readonly threshold: Literal };

export function readCondition(props: JsonObject, path: string): Condition | null {
  const condition = field(props, 'condition');
  const threshold = field(props, 'threshold');
  if (condition === undefined && threshold === undefined) return null;
  return requireCondition(props, path);
}

export function requireCondition(props: JsonObject, path: string): Condition {
  const condition = field(props, 'condition');
  const threshold = field(props, 'threshold');
  if (condition === undefined)
    throw new RuleError('FERRY_RULES_FIELD_REQUIRED', `${childPath(path, 'condition')} is required with threshold`, { path: childPath(path, 'condition') });
  if (threshold === undefined)
    throw new RuleError('FERRY_RULES_FIELD_REQUIRED', `${childPath(path, 'threshold')} is required with condition`, { path: childPath(path, 'threshold') });
  const op = expectOneOf(condition, childPath(path, 'condition'), COMPARE_OPS);
  const at = childPath(path, 'threshold');
  const ordering = op !== 'eq' && op !== 'ne';
  if (typeof threshold === 'number') {
    if (!Number.isFinite(threshold)) throw valueError(at, 'must be a finite number');
  } else if (typeof threshold !== 'string' && (ordering || (threshold !== null && typeof threshold !== 'boolean'))) {
    throw typeError(at, ordering ? `a number or string for condition ${op}` : 'a number, string, boolean or null', threshold);
  }
  return { op, threshold: threshold as Literal };
}

/** Sources for union templates: one or more distinct topic filters. */
export function unionSources(input: TemplateInput): Source[] {
  input.inputs.forEach((topic, index) => {
    if (input.inputs.indexOf(topic) !== index) throw valueError(`${input.inputPath}[${index}]`, `repeats topic ${JSON.stringify(topic)}`);
  });
  return input.inputs.map((topic) => ({ topic, alias: null }));
}
