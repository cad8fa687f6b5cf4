/**
 * @module Evaluates field references and predicates against records; failures are typed EVAL errors.
 *
 * Comparisons are strict: ordering needs two numbers or two strings, a missing field is an error rather
 * than "false". A misconfigured rule (a typo in a field name) then shows up in the job's error counter
 * and eventually stops the job, instead of silently matching nothing.
 */
import { RuleError } from './errors.ts';
import { formatJsonPath, MISSING, readPath } from './json-path.ts';
import type { CompareOp, FieldRef, Literal, Operand, Predicate } from './plan.ts';

/** The records a plan reads: one for stream and aggregate plans, left and right for a join. */
export type Inputs = readonly unknown[];

function describeRef(ref: FieldRef): string {
  return ref.input === 0 ? formatJsonPath(ref.path) : `right ${formatJsonPath(ref.path)}`;
}

/** The value at `ref`, or MISSING. */
export function lookup(ref: FieldRef, inputs: Inputs): unknown {
  return readPath(inputs[ref.input], ref.path);
}

export function readField(ref: FieldRef, inputs: Inputs): unknown {
  const value = lookup(ref, inputs);
  if (value === MISSING) throw new RuleError('FERRY_RULES_EVAL_FIELD_MISSING', `record has no field ${describeRef(ref)}`);
  return value;
}

export function readNumber(ref: FieldRef, inputs: Inputs): number {
  const value = readField(ref, inputs);
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RuleError('FERRY_RULES_EVAL_TYPE', `field ${describeRef(ref)} must be a finite number, got ${JSON.stringify(value) ?? typeof value}`);
  }
  return value;
}

/** Group and join keys are JSON primitives, kept as their JSON text so they survive snapshots unchanged. */
export function readKey(ref: FieldRef, inputs: Inputs): string {
  const value = readField(ref, inputs);
  if (value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) {
    return JSON.stringify(value);
  }
  throw new RuleError('FERRY_RULES_EVAL_TYPE', `key field ${describeRef(ref)} must be a string, finite number, boolean or null`);
}

function operandValue(operand: Operand, inputs: Inputs): unknown {
  return operand.kind === 'literal' ? operand.value : readField(operand.ref, inputs);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const aKeys = Object.keys(a);
  const bKeys = Object.keys(b);
  if (aKeys.length !== bKeys.length) return false;
  const bRecord = b as Record<string, unknown>;
  const aRecord = a as Record<string, unknown>;
  return aKeys.every((key) => Object.hasOwn(b, key) && deepEqual(aRecord[key], bRecord[key]));
}

export function compareValues(op: CompareOp, a: unknown, b: unknown): boolean {
  if (op === 'eq') return deepEqual(a, b);
  if (op === 'ne') return !deepEqual(a, b);
  const comparable = (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string');
  if (!comparable) {
    throw new RuleError(
      'FERRY_RULES_EVAL_TYPE',
      `cannot order ${JSON.stringify(a) ?? typeof a} against ${JSON.stringify(b) ?? typeof b} (${op}); both must be numbers or both strings`,
    );
  }
  // Both numbers or both strings here, so the relational operators are well defined.
  const x = a as number | string;
  const y = b as number | string;
  switch (op) {
    case 'gt':
      return x > y;
    case 'ge':
      return x >= y;
    case 'lt':
      return x < y;
    case 'le':
      return x <= y;
  }
}

export function evalPredicate(predicate: Predicate, inputs: Inputs): boolean {
  switch (predicate.kind) {
    case 'compare':
      return compareValues(predicate.op, operandValue(predicate.left, inputs), operandValue(predicate.right, inputs));
    case 'and':
      return evalPredicate(predicate.left, inputs) && evalPredicate(predicate.right, inputs);
    case 'or':
      return evalPredicate(predicate.left, inputs) || evalPredicate(predicate.right, inputs);
    case 'not':
      return !evalPredicate(predicate.arg, inputs);
  }
}

/** Shorthand used by templates: `field <op> literal`. */
export function comparison(op: CompareOp, ref: FieldRef, value: Literal): Predicate {
  return { kind: 'compare', op, left: { kind: 'field', ref }, right: { kind: 'literal', value } };
}
