import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Value, compileTemplate, evaluate, isComposeError } from './index.ts';

const NAMES = new Set(['A', 'B', 'group', 'result']);
const compile = (src: string) => {
  const r = compileTemplate(src, NAMES, { so: 'so', stream: 'S', channel: 'c' });
  if (!r.ok) throw r.error;
  return r.value;
};
/** Evaluates with A.channels.a = a, B.channels.a = b, every lastUpdate 7. */
const run = (src: string, a: Value = 1, b: Value = 2) => {
  const c = compile(src);
  const r = evaluate(
    c,
    c.refs.map((x) => (x.path[0] === 'lastUpdate' ? 7 : x.name === 'A' ? a : b)),
  );
  if (!r.ok) throw r.error;
  return r.value.value;
};
const code = (src: string): string => {
  const r = compileTemplate(src, NAMES, { so: 'so', stream: 'S', channel: 'c' });
  if (!r.ok) return r.error.code;
  const e = evaluate(
    r.value,
    r.value.refs.map(() => 1),
  );
  return e.ok ? 'ok' : e.error.code;
};

describe('templates', () => {
  it('read inputs in both path forms, $.lastUpdate and $result', () => {
    expect(run('{$A.channels.a.current-value}+{$group.channels.a.current-value}')).toBe(3);
    expect(run("{$A.channels.a['current-value']} * 10")).toBe(10);
    expect(run('{$.lastUpdate} % 2 == 1')).toBe(true);
    expect(run("{$result.channels.a['current-value']}!=-1")).toBe(true);
    expect(compile('{$A.channels.$.current-value}').refs).toEqual([{ name: 'A', path: ['channels', '$', 'current-value'] }]);
  });

  it('evaluate the subset with JavaScript meaning', () => {
    expect(run('{$A.channels.a.current-value} > 0 ? "up" : "down"')).toBe('up');
    expect(run('"t=" + {$A.channels.a.current-value}')).toBe('t=1');
    expect(run('[1, 2, 3][{$A.channels.a.current-value}]')).toBe(2);
    expect(run('Math.max(1, {$B.channels.a.current-value}, Math.PI)')).toBe(Math.PI);
    expect(run('Math.round({$A.channels.a.current-value} * 10 / 3)')).toBe(3);
    expect(run('{$A.channels.a.current-value}.toUpperCase().slice(0, 2)', 'hello')).toBe('HE');
    expect(run('{$A.channels.a.current-value}.includes(3) && {$A.channels.a.current-value}.length == 2', [3, 4])).toBe(true);
    expect(run('{$A.channels.a.current-value}.join("-")', [3, 4])).toBe('3-4');
    expect(run('{$A.channels.a.current-value} != null && {$B.channels.a.current-value} == null', 1, null)).toBe(true);
    expect(run('{$A.channels.a.current-value} ?? 5', null)).toBe(5);
    expect(run('(2 ** 10) | 1')).toBe(1025);
    expect(run('{$A.channels.a.current-value}.toFixed(2)', 1.005)).toBe('1.00');
    expect(run('[{$A.channels.a.current-value}].concat([9]).reverse()', 1)).toEqual([9, 1]);
    expect(run('{$A.channels.a.current-value}[5]', [1])).toBe(null);
  });

  it('refuse at compile time what the subset leaves out, with the position of syntax errors', () => {
    const r = compileTemplate('{$A.channels.a.current-value} + * 2', NAMES, { so: 'so', stream: 'S', channel: 'c' });
    expect(!r.ok && [r.error.code, r.error.where]).toEqual(['FERRY_COMPOSE_SYNTAX', { so: 'so', stream: 'S', channel: 'c', position: 32 }]);
    expect(!r.ok && r.error.message).toMatch(/^FERRY_COMPOSE_SYNTAX: so so, stream S, channel c, position 32: /);
    for (const [src, want] of [
      ['{$Z.channels.a.current-value}', 'FERRY_COMPOSE_REFERENCE'],
      ['{$A.channels.a}', 'FERRY_COMPOSE_REFERENCE'],
      ['{$A.foo}', 'FERRY_COMPOSE_REFERENCE'],
      ['process.exit(1)', 'FERRY_COMPOSE_EXPR_FORBIDDEN'],
      ['"x".constructor', 'FERRY_COMPOSE_EXPR_FORBIDDEN'],
      ['"x"["constructor"]("y")', 'FERRY_COMPOSE_EXPR_FORBIDDEN'],
      ['[].__proto__', 'FERRY_COMPOSE_EXPR_FORBIDDEN'],
      ['Math.random()', 'FERRY_COMPOSE_EXPR_FORBIDDEN'],
      ['Math["max"](1)', 'FERRY_COMPOSE_EXPR_FORBIDDEN'],
      ['this', 'FERRY_COMPOSE_EXPR_FORBIDDEN'],
      ['1, 2', 'FERRY_COMPOSE_EXPR_FORBIDDEN'],
      ['eval("1")', 'FERRY_COMPOSE_EXPR_FORBIDDEN'],
      ['[1].map(Math.abs)', 'FERRY_COMPOSE_EXPR_FORBIDDEN'],
      ['{$A.channels.a.current-value', 'FERRY_COMPOSE_SYNTAX'],
      ['1 +', 'FERRY_COMPOSE_SYNTAX'],
      [`1${'+1'.repeat(2100)}`, 'FERRY_COMPOSE_TOO_LARGE'],
      [`${'('.repeat(2000)}1${')'.repeat(2000)}`, 'FERRY_COMPOSE_TOO_LARGE'],
      [`${'['.repeat(1000)}1${']'.repeat(1000)}`, 'FERRY_COMPOSE_TOO_LARGE'],
    ] as const) {
      expect(code(src), src).toBe(want);
    }
  });

  it('fail at run time with typed errors: wrong types, oversized results, the step budget', () => {
    expect(code('"ab".repeat(100000)')).toBe('FERRY_COMPOSE_TOO_LARGE');
    expect(code('[1] - 1')).toBe('FERRY_COMPOSE_RUNTIME_TYPE');
    expect(code('(1).toUpperCase()')).toBe('FERRY_COMPOSE_RUNTIME_TYPE');
    expect(code('(1)[0]')).toBe('FERRY_COMPOSE_RUNTIME_TYPE');
    const c = compile(Array.from({ length: 400 }, () => '1').join('+'));
    expect(evaluate(c, []).ok).toBe(true);
    const r = evaluate(c, [], {}, 100);
    expect(!r.ok && r.error.code).toBe('FERRY_COMPOSE_BUDGET');
  });
});

const SNIPPETS = [
  '{$A.channels.a.current-value}',
  '{$B.lastUpdate}',
  '{$.lastUpdate}',
  '1',
  '0.5',
  '"s"',
  "'q'",
  'null',
  'true',
  'undefined',
  'NaN',
  'Math.PI',
  'Math.max',
  'Math.sqrt(',
  '+',
  '-',
  '*',
  '/',
  '%',
  '**',
  '==',
  '!=',
  '===',
  '<',
  '>=',
  '&&',
  '||',
  '??',
  '!',
  '~',
  '?',
  ':',
  '(',
  ')',
  '[',
  ']',
  ',',
  '.',
  '.length',
  '.slice(',
  '.repeat(',
  '.split(',
  '.join(',
  '.concat(',
  '.toFixed(',
  '.constructor',
  '.__proto__',
  '["constructor"]',
  'this',
  'x',
  '{',
  '}',
  '$',
  '9999',
  '"ab".repeat(9999)',
];

describe('parser and evaluator, for any input', () => {
  it('never throw; fail only with typed errors; the budget bounds the steps', () => {
    const values = fc.oneof(
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.string({ maxLength: 20 }),
      fc.constant(null),
      fc.array(fc.integer(), { maxLength: 5 }),
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.array(fc.constantFrom(...SNIPPETS), { maxLength: 30 }).map((xs) => xs.join(' ')),
          fc.string({ maxLength: 200 }),
        ),
        fc.array(values, { maxLength: 8 }),
        fc.integer({ min: 1, max: 500 }),
        (src, vals, budget) => {
          let out: { ok: boolean; error?: unknown; value?: { steps: number } };
          try {
            const c = compileTemplate(src, NAMES, {});
            out = c.ok
              ? evaluate(
                  c.value,
                  c.value.refs.map((_, i) => (vals[i] ?? null) as Value),
                  {},
                  budget,
                )
              : c;
          } catch (e) {
            throw new Error(`threw ${String(e)} on ${JSON.stringify(src)}`);
          }
          if (!out.ok) expect(isComposeError(out.error)).toBe(true);
          // A step is charged before each node; one node's extra charge (a method over a capped value) may pass the budget only in the failing check.
          else expect(out.value!.steps).toBeLessThanOrEqual(budget);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
