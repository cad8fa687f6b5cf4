/**
 * @module SQL -> plan: the same plan as the JSON templates for the same rule, and semantic errors at the
 * offending clause.
 */
import { describe, expect, it } from 'vitest';
import { RuleError } from '../core/errors.ts';
import type { RuleErrorCode } from '../core/errors.ts';
import { parseInstallation } from '../objects.ts';
import type { Plan } from '../core/plan.ts';
import { compileSql } from './compile.ts';

function templatePlan(jobType: string, jobProps: Record<string, unknown>, input: string | string[]): Plan {
  return parseInstallation({
    headers: { runtime: 'edge', targetResource: 'r', jobType },
    jobConfig: { connectors: { input, output: 'out' }, jobProps },
  }).plan;
}

function withoutAliases(plan: Plan): unknown {
  return { ...plan, sources: plan.sources.map((source) => ({ ...source, alias: null })) };
}

describe('SQL and templates compile to the same plan', () => {
  it('single-filter', () => {
    expect(compileSql('SELECT * FROM sensors/+/temp WHERE temp > 30', 'out')).toEqual(
      templatePlan('single-filter', { condition: 'gt', threshold: 30, fieldName: 'temp' }, 'sensors/+/temp'),
    );
    expect(compileSql("SELECT * FROM s WHERE meta.state[0] <> 'ok'", 'out')).toEqual(
      templatePlan('single-filter', { condition: 'ne', threshold: 'ok', fieldJsonPath: '$.meta.state[0]' }, 's'),
    );
  });

  it('aggregation over time, grouped', () => {
    expect(compileSql('SELECT room, avg(temp) AS avg FROM sensors/+/temp SLIDING 10s 2s WHERE temp >= -40 GROUP BY room', 'out')).toEqual(
      templatePlan(
        'aggregation',
        {
          function: 'avg',
          fieldName: 'temp',
          groupBy: 'room',
          condition: 'ge',
          threshold: -40,
          window: { type: 'sliding', size: 10_000, slide: 2000, unit: 'ms' },
        },
        'sensors/+/temp',
      ),
    );
  });

  it('aggregation over counts', () => {
    expect(compileSql('SELECT count(*) FROM s COUNT 5', 'out')).toEqual(
      templatePlan('aggregation', { function: 'count', window: { type: 'tumbling', size: 5, unit: 'count' } }, 's'),
    );
    expect(compileSql('SELECT max(v) AS max FROM s COUNT 5 1', 'out')).toEqual(
      templatePlan('aggregation', { function: 'max', fieldName: 'v', window: { type: 'sliding', size: 5, slide: 1, unit: 'count' } }, 's'),
    );
  });

  it('join (up to the SQL aliases)', () => {
    const sql = compileSql('SELECT * FROM s1 AS a JOIN s2 AS b ON b.id = a.id WITHIN 5s', 'out');
    expect(withoutAliases(sql)).toEqual(withoutAliases(templatePlan('join', { fieldName: 'id', windowMs: 5000 }, ['s1', 's2'])));
  });
});

describe('SQL plan details', () => {
  it('projects join fields by their last name', () => {
    const plan = compileSql('SELECT a.x, b.y.z AS why, a FROM s1 AS a JOIN s2 AS b ON a.id = b.id WITHIN 5s WHERE a.t > b.t', 'out');
    expect(plan).toMatchObject({
      kind: 'join',
      project: {
        kind: 'fields',
        items: [
          { ref: { input: 0, path: ['x'] }, as: 'x' },
          { ref: { input: 1, path: ['y', 'z'] }, as: 'why' },
          { ref: { input: 0, path: [] }, as: 'a' },
        ],
      },
      filter: { left: { ref: { input: 0, path: ['t'] } }, right: { ref: { input: 1, path: ['t'] } } },
    });
  });

  it('drops a leading alias in single-source queries and names aggregates fn_field by default', () => {
    const plan = compileSql('SELECT sum(s.v.w), s.room FROM t AS s TUMBLING 1s GROUP BY s.room', 'out');
    expect(plan).toMatchObject({
      kind: 'aggregate',
      groupBy: { path: ['room'] },
      outputs: [
        { kind: 'aggregate', fn: 'sum', ref: { path: ['v', 'w'] }, as: 'sum_w' },
        { kind: 'group', as: 'room' },
      ],
    });
  });

  it('projects plain queries', () => {
    expect(compileSql('SELECT t AS temp, meta.room FROM s', 'out')).toMatchObject({
      kind: 'stream',
      filter: null,
      project: { kind: 'fields', items: [{ as: 'temp' }, { as: 'room', ref: { path: ['meta', 'room'] } }] },
    });
  });
});

describe('semantic errors point at the clause', () => {
  it.each<[string, RuleErrorCode, number, string]>([
    ['SELECT avg(temp) FROM t', 'FERRY_RULES_SQL_SEMANTIC', 8, 'needs a window'],
    ['SELECT * FROM t GROUP BY room', 'FERRY_RULES_SQL_SEMANTIC', 8, 'needs a window'],
    ['SELECT temp FROM t TUMBLING 10s', 'FERRY_RULES_SQL_SEMANTIC', 8, 'at least one aggregate'],
    ['SELECT * FROM t TUMBLING 10s', 'FERRY_RULES_SQL_SEMANTIC', 8, 'at least one aggregate'],
    ['SELECT avg(t), hum FROM x TUMBLING 10s GROUP BY room', 'FERRY_RULES_SQL_SEMANTIC', 16, 'only aggregates and the GROUP BY field'],
    ['SELECT sum(*) FROM x COUNT 5', 'FERRY_RULES_SQL_SEMANTIC', 8, 'sum(*)'],
    ['SELECT avg(t) FROM x SLIDING 10s 20s', 'FERRY_RULES_SQL_SEMANTIC', 22, 'slide must not exceed size'],
    ['SELECT avg(t) FROM x SLIDING 1h 1ms', 'FERRY_RULES_SQL_SEMANTIC', 22, 'size / slide'],
    ['SELECT avg(t) FROM x COUNT 20000', 'FERRY_RULES_SQL_SEMANTIC', 22, 'at most 10000 records'],
    ['SELECT avg(t) AS windowStart FROM x COUNT 2', 'FERRY_RULES_SQL_SEMANTIC', 8, 'reserved'],
    ['SELECT a, b AS a FROM x', 'FERRY_RULES_SQL_SEMANTIC', 11, 'appears twice'],
    ['SELECT s[0] FROM t AS s', 'FERRY_RULES_SQL_SEMANTIC', 8, 'name this column with AS'],
    ['SELECT a.x FROM s1 AS a JOIN s2 ON a.id = s2.id WITHIN 5s', 'FERRY_RULES_SQL_SEMANTIC', 30, 'needs a name'],
    ['SELECT a.x FROM s1 JOIN s2 AS b ON a.id = b.id WITHIN 5s', 'FERRY_RULES_SQL_SEMANTIC', 17, 'needs a name'],
    ['SELECT a.x FROM s1 AS a JOIN s2 AS a ON a.id = a.id WITHIN 5s', 'FERRY_RULES_SQL_SEMANTIC', 30, 'both sides'],
    ['SELECT x FROM s1 AS a JOIN s2 AS b ON a.id = b.id WITHIN 5s', 'FERRY_RULES_SQL_SEMANTIC', 8, "side's name"],
    ['SELECT * FROM s1 AS a JOIN s2 AS b ON a.id = a.id WITHIN 5s', 'FERRY_RULES_SQL_SEMANTIC', 36, 'field of each side'],
    ['SELECT * FROM s1 AS a JOIN s2 AS b ON a.id = b.id WITHIN 30d', 'FERRY_RULES_SQL_SYNTAX', 58, 'duration'],
    ['SELECT * FROM s1 AS a JOIN s2 AS b ON a.id = b.id WITHIN 200h', 'FERRY_RULES_SQL_SEMANTIC', 51, 'WITHIN'],
    ['SELECT * FROM s1 AS a JOIN s2 AS b ON a.id = b.id WITHIN 1s GROUP BY a.x', 'FERRY_RULES_SQL_SEMANTIC', 70, 'GROUP BY'],
    ['SELECT avg(a.t) FROM s1 AS a JOIN s2 AS b ON a.id = b.id WITHIN 1s', 'FERRY_RULES_SQL_SEMANTIC', 8, 'not supported with JOIN'],
    ['SELECT * FROM a/#/b', 'FERRY_RULES_TOPIC_INVALID', 15, '# must be a whole level'],
  ])('%j', (text, code, column, message) => {
    let caught: unknown;
    try {
      compileSql(text, 'out');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RuleError);
    const error = caught as RuleError;
    expect(error.code).toBe(code);
    expect(error.position).toMatchObject({ line: 1, column });
    expect(error.message).toContain(message);
  });
});
