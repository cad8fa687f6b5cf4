/**
 * @module Keeps the error catalog consistent: unique 3xxx numbers in per-layer ranges, names, one-line docs,
 * and docs/rules.md naming only real codes (docs/errors.md lists them all; packages/base/src/errors-docs.test.ts
 * checks that list).
 */
import type { ErrorSpec } from '@ferry/base';
import { describe, expect, it } from 'vitest';
import rulesDoc from '../../../../docs/rules.md?raw';
import { RULE_ERRORS, RuleError, isRuleError } from './errors.ts';
import type { RuleErrorCode } from './errors.ts';

const entries = Object.entries(RULE_ERRORS) as [RuleErrorCode, ErrorSpec][];

describe('error catalog', () => {
  it('names every code FERRY_RULES_<WHAT>', () => {
    for (const [code] of entries) expect(code).toMatch(/^FERRY_RULES_[A-Z][A-Z0-9_]*[A-Z0-9]$/);
  });

  it('gives every code a unique wire number in 3000-3999', () => {
    const numbers = entries.map(([, entry]) => entry.num);
    expect(new Set(numbers).size).toBe(numbers.length);
    for (const num of numbers) {
      expect(Number.isInteger(num)).toBe(true);
      expect(num).toBeGreaterThanOrEqual(3000);
      expect(num).toBeLessThan(4000);
    }
  });

  it('keeps each layer in its sub-range', () => {
    // First match wins: 30xx objects/templates, 31xx SQL and plan, 32xx lifecycle, 33xx snapshots, 34xx evaluation.
    const layers: [RegExp, number][] = [
      [/^FERRY_RULES_(FIELD_|TOPIC_|JSON_PATH|JOB_TYPE_|FEEDS_ITSELF)/, 30],
      [/^FERRY_RULES_(SQL_|PLAN_)/, 31],
      [/^FERRY_RULES_(INVALID_TRANSITION|JOB_|WRONG_RUNTIME|LIMIT|TOO_MANY_JOBS)/, 32],
      [/^FERRY_RULES_SNAPSHOT_/, 33],
      [/^FERRY_RULES_EVAL_/, 34],
    ];
    for (const [code, { num }] of entries) {
      const layer = layers.find(([pattern]) => pattern.test(code));
      expect(layer, `${code} belongs to no layer`).toBeDefined();
      expect(Math.floor(num / 100), code).toBe(layer?.[1]);
    }
  });

  it('documents every code in one non-empty line', () => {
    for (const [code, { doc }] of entries) {
      expect(doc.trim().length, code).toBeGreaterThan(10);
      expect(doc, code).not.toMatch(/\n/);
    }
  });

  it('names only catalogued codes in docs/rules.md, and sends readers to docs/errors.md for the list', () => {
    expect(rulesDoc).toContain('(errors.md#ferry_rules_-3000-3999)');
    const documented = [...rulesDoc.matchAll(/FERRY_RULES_[A-Z_]+/g)].map((match) => match[0]);
    for (const code of documented) expect(Object.keys(RULE_ERRORS), `docs mention unknown ${code}`).toContain(code);
  });
});

describe('RuleError', () => {
  it('carries code, wire number, path and position', () => {
    const error = new RuleError('FERRY_RULES_SQL_SYNTAX', 'boom', { path: 'jobConfig.jobProps.query', position: { offset: 3, line: 1, column: 4 } });
    expect(error).toBeInstanceOf(Error);
    expect(isRuleError(error)).toBe(true);
    expect(error.name).toBe('RuleError');
    expect([error.num, error.status]).toEqual([3101, 400]);
    expect(error.toJSON()).toEqual({
      code: 'FERRY_RULES_SQL_SYNTAX',
      numeric: 3101,
      message: 'boom',
      path: 'jobConfig.jobProps.query',
      position: { offset: 3, line: 1, column: 4 },
    });
  });

  it('leaves path and position out of JSON when absent', () => {
    const json = new RuleError('FERRY_RULES_JOB_NOT_FOUND', 'none').toJSON();
    expect(Object.keys(json)).toEqual(['code', 'numeric', 'message']);
    expect(isRuleError(new Error('x'))).toBe(false);
  });
});
