/**
 * @module SQL-like text: tokenizer and parser by example, error positions, and properties (print/parse
 * round trip over generated trees; any text parses or fails with a typed error at a real position).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RuleError } from '../core/errors.ts';
import type { PathSegment } from '../core/json-path.ts';
import type { AggFn, CompareOp, Literal } from '../core/plan.ts';
import type { SqlCondition, SqlField, SqlOperand, SqlQuery, SqlSelectItem, SqlSource, SqlWindow } from './ast.ts';
import { Lexer, positionAt } from './lexer.ts';
import { MAX_SQL_LENGTH, parseSql } from './parser.ts';
import { printSql } from './print.ts';

/** Drops source offsets so trees from different texts compare by structure. */
function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => !/offset$/i.test(key))
        .map(([key, item]) => [key, strip(item)]),
    );
  }
  return value;
}

function syntaxFailure(text: string): RuleError {
  try {
    parseSql(text);
  } catch (error) {
    if (error instanceof RuleError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(text)} to fail`);
}

describe('lexer', () => {
  it('reads keywords case-insensitively, numbers with units, strings and quoted identifiers', () => {
    const lexer = new Lexer(`select "order" 10s -2.5e3 'it''s' <> >=`);
    const tokens = Array.from({ length: 8 }, () => lexer.next());
    expect(tokens.map((token) => [token.kind, token.value])).toEqual([
      ['keyword', 'SELECT'],
      ['ident', 'order'],
      ['number', '10'],
      ['number', '-2.5e3'],
      ['string', "it's"],
      ['punct', '<>'],
      ['punct', '>='],
      ['eof', ''],
    ]);
    expect(tokens[1]?.quoted).toBe(true);
    expect(tokens[2]).toMatchObject({ number: 10, unit: 's' });
    expect(tokens[3]?.number).toBe(-2500);
  });

  it('reads topics only where asked, re-reading a peeked token', () => {
    const lexer = new Lexer('  sensors/+/temp AS s');
    expect(lexer.peek().kind).toBe('ident'); // as normal tokens, `/` would be an error later
    expect(lexer.topic()).toMatchObject({ kind: 'topic', value: 'sensors/+/temp', offset: 2 });
    expect(lexer.next()).toMatchObject({ kind: 'keyword', value: 'AS' });
    expect(new Lexer("'odd topic/#'").topic()).toMatchObject({ kind: 'topic', value: 'odd topic/#' });
  });

  it('skips -- comments', () => {
    const lexer = new Lexer('-- a rule\nSELECT -- why\n*');
    expect(lexer.next().value).toBe('SELECT');
    expect(lexer.next().value).toBe('*');
  });

  it('computes 1-based line and column', () => {
    expect(positionAt('ab\ncd\nef', 7)).toEqual({ offset: 7, line: 3, column: 2 });
    expect(positionAt('x', 0)).toEqual({ offset: 0, line: 1, column: 1 });
  });
});

describe('parser', () => {
  it('parses the aggregate example', () => {
    const query = parseSql('SELECT avg(temp) AS t FROM sensors/+/temp TUMBLING 10s WHERE temp > 20 GROUP BY room');
    expect(strip(query)).toEqual({
      select: [{ kind: 'aggregate', fn: 'avg', arg: { parts: ['temp'] }, as: 't' }],
      from: { topic: 'sensors/+/temp', alias: null },
      join: null,
      window: { kind: 'tumbling', sizeMs: 10_000 },
      where: { kind: 'compare', op: 'gt', left: { kind: 'field', field: { parts: ['temp'] } }, right: { kind: 'literal', value: 20 } },
      groupBy: { parts: ['room'] },
    });
  });

  it('parses sliding and count windows', () => {
    expect(parseSql('SELECT max(t) FROM x SLIDING 1m 500ms').window).toMatchObject({ kind: 'sliding', sizeMs: 60_000, slideMs: 500 });
    expect(parseSql('SELECT count(*) FROM x COUNT 5').window).toMatchObject({ kind: 'count', size: 5, slide: null });
    expect(parseSql('SELECT count(*) FROM x count 5 2;').window).toMatchObject({ kind: 'count', size: 5, slide: 2 });
    expect(parseSql('SELECT sum(t) FROM x TUMBLING 1h').window).toMatchObject({ sizeMs: 3_600_000 });
  });

  it('parses the join example', () => {
    const query = parseSql('SELECT a.x, b.y FROM s1 AS a JOIN s2 AS b ON a.id = b.id WITHIN 5s');
    expect(strip(query.join)).toEqual({
      source: { topic: 's2', alias: 'b' },
      on: { left: { parts: ['a', 'id'] }, right: { parts: ['b', 'id'] } },
      withinMs: 5000,
    });
    expect(strip(query.select)).toEqual([
      { kind: 'field', field: { parts: ['a', 'x'] }, as: null },
      { kind: 'field', field: { parts: ['b', 'y'] }, as: null },
    ]);
  });

  it('gives AND precedence over OR and honours NOT and parentheses', () => {
    const where = parseSql("SELECT * FROM t WHERE a = 1 OR NOT b != 'x' AND (c.d[2] <= -3 OR e = NULL)").where;
    expect(strip(where)).toMatchObject({
      kind: 'or',
      left: { kind: 'compare', op: 'eq' },
      right: { kind: 'and', left: { kind: 'not', arg: { op: 'ne' } }, right: { kind: 'or', left: { left: { field: { parts: ['c', 'd', 2] } } } } },
    });
  });

  it('lets function names and COUNT/TUMBLING be field names', () => {
    expect(strip(parseSql('SELECT max, count.x AS c FROM t WHERE tumbling = TRUE').select)).toEqual([
      { kind: 'field', field: { parts: ['max'] }, as: null },
      { kind: 'field', field: { parts: ['count', 'x'] }, as: 'c' },
    ]);
    expect(parseSql('SELECT "select" FROM t').select).toMatchObject([{ field: { parts: ['select'] } }]);
  });
});

describe('syntax errors carry position and expectation', () => {
  it.each([
    ['SELECT FROM t', 1, 8, "expected a field name but found 'FROM'"],
    ['SELECT *\nFROM t\nWHERE x >', 3, 10, 'expected a field, number, string'],
    ['SELECT * FROM t TUMBLING 10', 1, 26, 'expected a duration'],
    ['SELECT * FROM t TUMBLING 10d', 1, 26, 'expected a duration'],
    ['SELECT * FROM t COUNT 0', 1, 23, 'expected a positive whole number'],
    ['SELECT * FROM t WHERE x = 1 y', 1, 29, 'expected GROUP BY, end of input'],
    ['SELECT * FROM t WHERE x ~ 1', 1, 25, 'unexpected character "~"'],
    ["SELECT * FROM t WHERE x = 'open", 1, 27, 'unterminated string'],
    ['SELECT * FROM', 1, 14, 'expected a topic'],
    ['SELECT * FROM t JOIN u AS b ON a.id = b.id', 1, 43, 'expected WITHIN'],
    ['SELECT a[x] FROM t', 1, 10, 'expected an array index'],
    ['SELECT * FROM t WHERE x = 007', 1, 27, 'leading zeros'],
    ['SELECT avg(t AS x FROM t', 1, 14, "expected ')'"],
  ])('%j -> line %i column %i', (text, line, column, expected) => {
    const error = syntaxFailure(text);
    expect(error.code).toBe('FERRY_RULES_SQL_SYNTAX');
    expect(error.position).toMatchObject({ line, column });
    expect(error.message).toContain(expected);
    expect(error.message).toContain(`line ${line}, column ${column}`);
  });

  it('bounds nesting, comparisons and length', () => {
    expect(syntaxFailure(`SELECT * FROM t WHERE ${'NOT '.repeat(100)} a = 1`).message).toContain('nested deeper');
    expect(syntaxFailure(`SELECT * FROM t WHERE ${Array.from({ length: 300 }, () => 'a = 1').join(' AND ')}`).message).toContain('comparisons');
    expect(syntaxFailure(`SELECT * FROM t WHERE a = '${'x'.repeat(MAX_SQL_LENGTH)}'`).position?.offset).toBe(MAX_SQL_LENGTH);
  });
});

// ---------------------------------------------------------------------------------------------------
// Generated syntax trees for the round trip.

const plainName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,6}$/);
const anyName = fc.oneof(plainName, fc.string({ minLength: 1, maxLength: 6 }));
const sqlField: fc.Arbitrary<SqlField> = fc
  .tuple(anyName, fc.array(fc.oneof(anyName, fc.nat(1000) as fc.Arbitrary<PathSegment>), { maxLength: 3 }))
  .map(([first, rest]) => ({ parts: [first, ...rest], offset: 0 }));
const literal: fc.Arbitrary<Literal> = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((value) => !Object.is(value, -0)),
  fc.integer(),
  fc.string({ maxLength: 8 }),
  fc.boolean(),
  fc.constant(null),
);
const operand: fc.Arbitrary<SqlOperand> = fc.oneof(
  sqlField.map((field) => ({ kind: 'field' as const, field })),
  literal.map((value) => ({ kind: 'literal' as const, value, offset: 0 })),
);
const op = fc.constantFrom<CompareOp>('eq', 'ne', 'lt', 'le', 'gt', 'ge');
const { condition } = fc.letrec<{ condition: SqlCondition }>((tie) => ({
  condition: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ kind: fc.constant('compare' as const), op, left: operand, right: operand, offset: fc.constant(0) }),
    fc.record({ kind: fc.constantFrom('and' as const, 'or' as const), left: tie('condition'), right: tie('condition') }),
    fc.record({ kind: fc.constant('not' as const), arg: tie('condition') }),
  ),
}));
const alias = fc.option(anyName, { nil: null });
const selectItem: fc.Arbitrary<SqlSelectItem> = fc.oneof(
  fc.record({ kind: fc.constant('field' as const), field: sqlField, as: alias, offset: fc.constant(0) }),
  fc.record({
    kind: fc.constant('aggregate' as const),
    fn: fc.constantFrom<AggFn>('sum', 'avg', 'min', 'max', 'count'),
    arg: fc.oneof(fc.constant('*' as const), sqlField),
    as: alias,
    offset: fc.constant(0),
  }),
);
const topicText = fc.oneof(fc.stringMatching(/^[a-z+#$/]{1,10}$/), fc.string({ minLength: 1, maxLength: 10 }));
const source: fc.Arbitrary<SqlSource> = fc.record({ topic: topicText, alias, offset: fc.constant(0) });
const ms = fc.integer({ min: 1, max: 10_000_000 });
const sqlWindow: fc.Arbitrary<SqlWindow> = fc.oneof(
  fc.record({ kind: fc.constant('tumbling' as const), sizeMs: ms, offset: fc.constant(0) }),
  fc.record({ kind: fc.constant('sliding' as const), sizeMs: ms, slideMs: ms, offset: fc.constant(0) }),
  fc.record({
    kind: fc.constant('count' as const),
    size: fc.integer({ min: 1, max: 1000 }),
    slide: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: null }),
    offset: fc.constant(0),
  }),
);
const query: fc.Arbitrary<SqlQuery> = fc
  .record({
    select: fc.oneof(fc.constant('*' as const), fc.array(selectItem, { minLength: 1, maxLength: 4 })),
    from: source,
    tail: fc.oneof(
      fc.constant({ join: null, window: null }),
      sqlWindow.map((window) => ({ join: null, window })),
      fc.record({ source, left: sqlField, right: sqlField, withinMs: ms }).map(({ source: joined, left, right, withinMs }) => ({
        join: { source: joined, on: { left, right, offset: 0 }, withinMs, withinOffset: 0 },
        window: null,
      })),
    ),
    where: fc.option(condition, { nil: null }),
    groupBy: fc.option(sqlField, { nil: null }),
  })
  .map(({ select, from, tail, where, groupBy }) => ({ select, selectOffset: 0, from, ...tail, where, groupBy }));

describe('properties', () => {
  it('parse(print(tree)) is the tree, and printing is canonical', () => {
    fc.assert(
      fc.property(query, (tree) => {
        const text = printSql(tree);
        const parsed = parseSql(text);
        expect(strip(parsed)).toEqual(strip(tree));
        expect(printSql(parsed)).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  const checkFailure = (text: string): void => {
    try {
      parseSql(text);
    } catch (error) {
      expect(error).toBeInstanceOf(RuleError);
      const ruleError = error as RuleError;
      expect(ruleError.code).toBe('FERRY_RULES_SQL_SYNTAX');
      const position = ruleError.position;
      expect(position).toBeDefined();
      if (position === undefined) return;
      expect(position.offset).toBeGreaterThanOrEqual(0);
      expect(position.offset).toBeLessThanOrEqual(text.length);
      expect(positionAt(text, position.offset)).toEqual(position);
    }
  };

  it('any text parses or fails with FERRY_RULES_SQL_SYNTAX at a position inside the text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 60 }), checkFailure));
    fc.assert(
      fc.property(
        fc.string({ maxLength: 60 }).map((tail) => `SELECT ${tail}`),
        checkFailure,
      ),
    );
  });

  it('valid text with one character inserted, deleted or truncated still fails cleanly', () => {
    fc.assert(
      fc.property(query, fc.nat(), fc.string({ minLength: 1, maxLength: 1 }), fc.constantFrom('insert', 'delete', 'truncate'), (tree, at, ch, how) => {
        const text = printSql(tree);
        const cut = at % (text.length + 1);
        const mutated =
          how === 'insert' ? text.slice(0, cut) + ch + text.slice(cut) : how === 'delete' ? text.slice(0, cut) + text.slice(cut + 1) : text.slice(0, cut);
        checkFailure(mutated);
      }),
      { numRuns: 300 },
    );
  });
});
