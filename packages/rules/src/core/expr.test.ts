/**
 * @module Predicate semantics: strict ordering types, deep equality, missing fields as errors, short-circuit.
 */
import { describe, expect, it } from 'vitest';
import { RuleError } from './errors.ts';
import { compareValues, evalPredicate, readKey, readNumber } from './expr.ts';
import type { Predicate } from './plan.ts';

const field = (name: string) => ({ kind: 'field' as const, ref: { input: 0 as const, path: [name] } });
const literal = (value: string | number | boolean | null) => ({ kind: 'literal' as const, value });

function code(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof RuleError ? error.code : 'not a RuleError';
  }
  return undefined;
}

describe('compareValues', () => {
  it.each([
    ['gt', 3, 2, true],
    ['ge', 2, 2, true],
    ['lt', 'a', 'b', true],
    ['le', 'b', 'a', false],
    ['eq', null, null, true],
    ['eq', { a: [1, 2] }, { a: [1, 2] }, true],
    ['eq', { a: 1 }, { a: 1, b: 2 }, false],
    ['eq', [1], { 0: 1 }, false],
    ['ne', 1, '1', true],
    ['eq', 1, 1.0, true],
  ] as const)('%s %j %j -> %s', (op, a, b, expected) => {
    expect(compareValues(op, a, b)).toBe(expected);
  });

  it('refuses to order mixed or non-scalar types', () => {
    expect(code(() => compareValues('gt', 1, '0'))).toBe('FERRY_RULES_EVAL_TYPE');
    expect(code(() => compareValues('lt', null, 1))).toBe('FERRY_RULES_EVAL_TYPE');
    expect(code(() => compareValues('ge', true, false))).toBe('FERRY_RULES_EVAL_TYPE');
  });
});

describe('evalPredicate', () => {
  const hot: Predicate = { kind: 'compare', op: 'gt', left: field('t'), right: literal(30) };

  it('treats a missing field as an error, not as false', () => {
    expect(evalPredicate(hot, [{ t: 31 }])).toBe(true);
    expect(code(() => evalPredicate(hot, [{ x: 1 }]))).toBe('FERRY_RULES_EVAL_FIELD_MISSING');
  });

  it('combines with and/or/not, short-circuiting left to right', () => {
    const missing: Predicate = { kind: 'compare', op: 'eq', left: field('nope'), right: literal(1) };
    expect(evalPredicate({ kind: 'or', left: hot, right: missing }, [{ t: 40 }])).toBe(true);
    expect(evalPredicate({ kind: 'and', left: hot, right: missing }, [{ t: 1 }])).toBe(false);
    expect(evalPredicate({ kind: 'not', arg: hot }, [{ t: 1 }])).toBe(true);
    expect(code(() => evalPredicate({ kind: 'and', left: hot, right: missing }, [{ t: 40 }]))).toBe('FERRY_RULES_EVAL_FIELD_MISSING');
  });
});

describe('readers', () => {
  it('reads finite numbers only', () => {
    expect(readNumber({ input: 0, path: ['v'] }, [{ v: 2.5 }])).toBe(2.5);
    expect(code(() => readNumber({ input: 0, path: ['v'] }, [{ v: '2.5' }]))).toBe('FERRY_RULES_EVAL_TYPE');
    expect(code(() => readNumber({ input: 0, path: ['v'] }, [{ v: Number.NaN }]))).toBe('FERRY_RULES_EVAL_TYPE');
  });

  it('keys are JSON text of primitives', () => {
    expect(readKey({ input: 1, path: ['id'] }, [{}, { id: 7 }])).toBe('7');
    expect(readKey({ input: 0, path: ['id'] }, [{ id: 'a' }])).toBe('"a"');
    expect(code(() => readKey({ input: 0, path: ['id'] }, [{ id: { x: 1 } }]))).toBe('FERRY_RULES_EVAL_TYPE');
  });
});
