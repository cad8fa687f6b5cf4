/**
 * @module Template `alarm`: valid props compile to an alarm plan; each kind of bad prop is refused with a typed
 * RuleError naming its exact path; and no generated input makes the parser throw anything but a RuleError.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RuleError } from '../core/errors.ts';
import type { RuleErrorCode } from '../core/errors.ts';
import { parseInstallation } from '../objects.ts';

type Json = Record<string, unknown>;

const BASE: Json = { type: 'high-temp', severity: 'major', value: 'temp', condition: { op: '>', threshold: 30 } };

function installation(jobProps: Json, input: unknown = 'ferry/up/+/telemetry', output = 'ferry/alarms/_/r1'): Json {
  return { headers: { runtime: 'cloud', targetResource: 'alarms', jobType: 'alarm' }, jobConfig: { connectors: { input, output }, jobProps } };
}

function failure(value: unknown): RuleError {
  try {
    parseInstallation(value);
  } catch (error) {
    if (error instanceof RuleError) return error;
    throw error;
  }
  throw new Error('expected a RuleError');
}

describe('alarm template', () => {
  it('compiles the props to an alarm plan with parsed paths and defaults', () => {
    const { plan } = parseInstallation(installation({ ...BASE, source: 'device', value: 'values.rssi' }));
    expect(plan).toEqual({
      kind: 'alarm',
      sources: [{ topic: 'ferry/up/+/telemetry', alias: null }],
      filter: null,
      alarm: {
        type: 'high-temp',
        severity: 'major',
        value: ['values', 'rssi'],
        valueText: 'values.rssi',
        source: ['device'],
        condition: { op: '>', threshold: 30 },
        forMs: 0,
        mOfN: null,
        missing: null,
      },
      sink: { topic: 'ferry/alarms/_/r1' },
    });
  });

  it('takes every optional prop and full $ paths', () => {
    const { plan } = parseInstallation(
      installation({
        ...BASE,
        value: "$['temp c']",
        condition: { op: 'between', low: -5, high: 5 },
        forMs: 60_000,
        mOfN: { m: 3, n: 5 },
        missing: { afterMs: 30_000, policy: 'breaching' },
      }),
    );
    expect(plan.kind === 'alarm' && plan.alarm).toMatchObject({
      value: ['temp c'],
      condition: { op: 'between', low: -5, high: 5 },
      forMs: 60_000,
      mOfN: { m: 3, n: 5 },
      missing: { afterMs: 30_000, policy: 'breaching' },
    });
  });

  it('takes strings and booleans for == and !=', () => {
    for (const threshold of ['open', true, 0]) {
      const { plan } = parseInstallation(installation({ ...BASE, condition: { op: '!=', threshold } }));
      expect(plan.kind === 'alarm' && plan.alarm.condition).toEqual({ op: '!=', threshold });
    }
  });

  const cases: [string, Json, RuleErrorCode, string][] = [
    ['a string threshold for >', { condition: { op: '>', threshold: '30' } }, 'FERRY_RULES_FIELD_TYPE', 'condition.threshold'],
    ['a null threshold for ==', { condition: { op: '==', threshold: null } }, 'FERRY_RULES_FIELD_TYPE', 'condition.threshold'],
    ['an object threshold for !=', { condition: { op: '!=', threshold: {} } }, 'FERRY_RULES_FIELD_TYPE', 'condition.threshold'],
    ['an unknown op', { condition: { op: 'gt', threshold: 1 } }, 'FERRY_RULES_FIELD_VALUE', 'condition.op'],
    ['a missing threshold', { condition: { op: '<' } }, 'FERRY_RULES_FIELD_REQUIRED', 'condition.threshold'],
    ['a threshold on between', { condition: { op: 'between', low: 1, high: 2, threshold: 3 } }, 'FERRY_RULES_FIELD_UNKNOWN', 'condition.threshold'],
    ['low on >', { condition: { op: '>', threshold: 1, low: 0 } }, 'FERRY_RULES_FIELD_UNKNOWN', 'condition.low'],
    ['high below low', { condition: { op: 'outside', low: 5, high: 1 } }, 'FERRY_RULES_FIELD_VALUE', 'condition.high'],
    ['a missing high', { condition: { op: 'between', low: 5 } }, 'FERRY_RULES_FIELD_REQUIRED', 'condition.high'],
    ['an unknown condition key', { condition: { op: '>', threshold: 1, treshold: 2 } }, 'FERRY_RULES_FIELD_UNKNOWN', 'condition.treshold'],
    ['m > n', { mOfN: { m: 4, n: 3 } }, 'FERRY_RULES_FIELD_VALUE', 'mOfN.m'],
    ['n above 1000', { mOfN: { m: 1, n: 1001 } }, 'FERRY_RULES_FIELD_VALUE', 'mOfN.n'],
    ['m of 0', { mOfN: { m: 0, n: 3 } }, 'FERRY_RULES_FIELD_VALUE', 'mOfN.m'],
    ['a fractional n', { mOfN: { m: 1, n: 2.5 } }, 'FERRY_RULES_FIELD_VALUE', 'mOfN.n'],
    ['a negative forMs', { forMs: -1 }, 'FERRY_RULES_FIELD_VALUE', 'forMs'],
    ['a string forMs', { forMs: '60s' }, 'FERRY_RULES_FIELD_TYPE', 'forMs'],
    ['afterMs of 0', { missing: { afterMs: 0, policy: 'ignore' } }, 'FERRY_RULES_FIELD_VALUE', 'missing.afterMs'],
    ['afterMs past 7 days', { missing: { afterMs: 604_800_001, policy: 'last' } }, 'FERRY_RULES_FIELD_VALUE', 'missing.afterMs'],
    ['an unknown policy', { missing: { afterMs: 1000, policy: 'zero' } }, 'FERRY_RULES_FIELD_VALUE', 'missing.policy'],
    ['a bad type name', { type: 'high temp' }, 'FERRY_RULES_FIELD_VALUE', 'type'],
    ['a type of 65 characters', { type: 'x'.repeat(65) }, 'FERRY_RULES_FIELD_VALUE', 'type'],
    ['an unknown severity', { severity: 'fatal' }, 'FERRY_RULES_FIELD_VALUE', 'severity'],
    ['a bad value path', { value: 'a..b' }, 'FERRY_RULES_JSON_PATH', 'value'],
    ['an empty source', { source: '' }, 'FERRY_RULES_FIELD_VALUE', 'source'],
    ['a bare $ value', { value: '$' }, 'FERRY_RULES_FIELD_VALUE', 'value'],
    ['an unknown prop', { threshold: 30 }, 'FERRY_RULES_FIELD_UNKNOWN', 'threshold'],
  ];
  it.each(cases)('refuses %s', (_name, change, code, path) => {
    const error = failure(installation({ ...BASE, ...change }));
    expect(error.code).toBe(code);
    expect(error.path).toBe(`jobConfig.jobProps.${path}`);
  });

  it('refuses a missing required prop by name', () => {
    for (const key of ['type', 'severity', 'value', 'condition']) {
      const { [key]: _gone, ...rest } = BASE;
      const error = failure(installation(rest));
      expect([error.code, error.path]).toEqual(['FERRY_RULES_FIELD_REQUIRED', `jobConfig.jobProps.${key}`]);
    }
  });

  it('never throws anything but a RuleError, and what it accepts is within bounds (property)', () => {
    const anyJson = fc.jsonValue({ maxDepth: 2 });
    const op = fc.constantFrom('>', '>=', '<', '<=', '==', '!=', 'between', 'outside', 'gt', '');
    const condition = fc.oneof(
      fc.record({ op, threshold: anyJson }, { requiredKeys: ['op'] }),
      fc.record({ op, low: anyJson, high: anyJson }, { requiredKeys: [] }),
      anyJson,
    );
    const props = fc.record(
      {
        type: fc.oneof(fc.string(), fc.stringMatching(/^[a-z.-]{1,70}$/), anyJson),
        severity: fc.oneof(fc.constantFrom('critical', 'major', 'minor', 'warning', 'indeterminate', 'fatal'), anyJson),
        value: fc.oneof(fc.constantFrom('temp', '$.a[0]', "$['x", 'a.b'), fc.string(), anyJson),
        source: fc.oneof(fc.constantFrom('device', '$'), fc.string(), anyJson),
        condition,
        forMs: fc.oneof(fc.integer({ min: -10, max: 700_000_000 }), fc.double(), anyJson),
        mOfN: fc.oneof(fc.record({ m: fc.integer({ min: -1, max: 1002 }), n: fc.integer({ min: -1, max: 1002 }) }), anyJson),
        missing: fc.oneof(fc.record({ afterMs: fc.integer({ min: -1, max: 700_000_000 }), policy: fc.string() }), anyJson),
        extra: anyJson,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(props, (jobProps) => {
        try {
          const { plan } = parseInstallation(installation(jobProps));
          if (plan.kind !== 'alarm') return false;
          const { mOfN, forMs } = plan.alarm;
          return forMs >= 0 && (mOfN === null || (mOfN.m >= 1 && mOfN.m <= mOfN.n && mOfN.n <= 1000));
        } catch (error) {
          return error instanceof RuleError && error.path?.startsWith('jobConfig.jobProps') === true;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
