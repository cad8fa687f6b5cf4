/**
 * @module The fast-path evaluator: walks a compiled template's tree over values only (numbers, booleans,
 * strings, null and arrays of them; nothing callable ever exists), with a step budget. Operators follow
 * JavaScript's rules on those values, so 0.1.0 templates mean what they meant under ServIoTicy; what a
 * template may do is white-listed (expr.ts). It never throws: a budget run out, a wrong type or an
 * oversized result comes back as a typed error.
 */
import type jsep from 'jsep';
import { type ComposeError, type ErrorWhere, composeError } from './errors.ts';
import { ARRAY_METHODS, type CompiledExpr, MATH_CONSTANTS, MATH_FNS, NUMBER_METHODS, STRING_METHODS } from './expr.ts';
import { MAX_ARRAY, MAX_STRING, type Value } from './values.ts';

export const DEFAULT_BUDGET = 10_000;

class Stop {
  readonly error: ComposeError;
  constructor(error: ComposeError) {
    this.error = error;
  }
}

interface Ctx {
  steps: number;
  readonly budget: number;
  readonly refs: readonly Value[];
  readonly ids: ReadonlyMap<string, number>;
  readonly where: ErrorWhere;
}

/** Values of the template's refs, by ref index; what the caller read from the stores. */
export type RefValues = readonly Value[];

export interface EvalResult {
  readonly value: Value;
  readonly steps: number;
}

export function evaluate(
  c: CompiledExpr,
  refs: RefValues,
  where: ErrorWhere = {},
  budget = DEFAULT_BUDGET,
): { ok: true; value: EvalResult } | { ok: false; error: ComposeError } {
  const ctx: Ctx = { steps: 0, budget, refs, ids: c.ids, where };
  try {
    const v = ev(c.ast, ctx);
    return { ok: true, value: { value: v === undefined ? null : v, steps: ctx.steps } };
  } catch (e) {
    if (e instanceof Stop) return { ok: false, error: e.error };
    if (e instanceof RangeError) return { ok: false, error: composeError('FERRY_COMPOSE_BUDGET', 'the evaluation ran out of stack', where) };
    return { ok: false, error: composeError('FERRY_COMPOSE_RUNTIME_TYPE', `the evaluation failed: ${String(e)}`, where) };
  }
}

type V = Value | undefined;

function charge(ctx: Ctx, n: number): void {
  ctx.steps += n;
  if (ctx.steps > ctx.budget) throw new Stop(composeError('FERRY_COMPOSE_BUDGET', `more than ${ctx.budget} steps`, ctx.where));
}

const typeErr = (ctx: Ctx, detail: string): Stop => new Stop(composeError('FERRY_COMPOSE_RUNTIME_TYPE', detail, ctx.where));

function sized(ctx: Ctx, v: V): V {
  if (typeof v === 'string') {
    if (v.length > MAX_STRING) throw new Stop(composeError('FERRY_COMPOSE_TOO_LARGE', `a string longer than ${MAX_STRING}`, ctx.where));
    charge(ctx, v.length >> 6);
  } else if (Array.isArray(v)) {
    if (v.length > MAX_ARRAY) throw new Stop(composeError('FERRY_COMPOSE_TOO_LARGE', `an array longer than ${MAX_ARRAY}`, ctx.where));
    charge(ctx, v.length);
  }
  return v;
}

const scalarOrNull = (v: V): boolean => v === null || v === undefined || typeof v !== 'object';

function binary(op: string, a: V, b: V, ctx: Ctx): V {
  switch (op) {
    case '==':
      // biome-ignore lint/suspicious/noDoubleEquals: JavaScript's loose equality is what 0.1.0 templates mean.
      return a == b;
    case '!=':
      // biome-ignore lint/suspicious/noDoubleEquals: as above.
      return a != b;
    case '===':
      return a === b;
    case '!==':
      return a !== b;
  }
  if (!scalarOrNull(a) || !scalarOrNull(b)) throw typeErr(ctx, `operator ${op} takes no arrays`);
  const x = a as number;
  const y = b as number;
  switch (op) {
    case '+':
      return sized(ctx, (x as unknown as string) + (y as unknown as string));
    case '-':
      return x - y;
    case '*':
      return x * y;
    case '/':
      return x / y;
    case '%':
      return x % y;
    case '**':
      return x ** y;
    case '<':
      return x < y;
    case '>':
      return x > y;
    case '<=':
      return x <= y;
    case '>=':
      return x >= y;
    case '|':
      return x | y;
    case '&':
      return x & y;
    case '^':
      return x ^ y;
    case '<<':
      return x << y;
    case '>>':
      return x >> y;
    case '>>>':
      return x >>> y;
    default:
      throw typeErr(ctx, `operator ${op} is not in the subset`);
  }
}

function ev(n: jsep.Expression, ctx: Ctx): V {
  charge(ctx, 1);
  switch (n.type) {
    case 'Literal':
      return n['value'] as Value;
    case 'Identifier': {
      const name = n['name'] as string;
      const i = ctx.ids.get(name);
      if (i !== undefined) return ctx.refs[i] ?? null;
      if (name === 'NaN') return Number.NaN;
      if (name === 'Infinity') return Number.POSITIVE_INFINITY;
      if (name === 'undefined') return undefined;
      throw typeErr(ctx, `unknown identifier ${name}`);
    }
    case 'UnaryExpression': {
      const a = ev(n['argument'] as jsep.Expression, ctx);
      const op = n['operator'] as string;
      if (op === '!') return !a;
      if (!scalarOrNull(a)) throw typeErr(ctx, `operator ${op} takes no arrays`);
      if (op === '-') return -(a as number);
      if (op === '+') return +(a as number);
      if (op === '~') return ~(a as number);
      throw typeErr(ctx, `operator ${op} is not in the subset`);
    }
    case 'BinaryExpression':
    case 'LogicalExpression': {
      const op = n['operator'] as string;
      const a = ev(n['left'] as jsep.Expression, ctx);
      if (op === '||') return a || ev(n['right'] as jsep.Expression, ctx);
      if (op === '&&') return a && ev(n['right'] as jsep.Expression, ctx);
      if (op === '??') return a ?? ev(n['right'] as jsep.Expression, ctx);
      return binary(op, a, ev(n['right'] as jsep.Expression, ctx), ctx);
    }
    case 'ConditionalExpression':
      return ev(n['test'] as jsep.Expression, ctx) ? ev(n['consequent'] as jsep.Expression, ctx) : ev(n['alternate'] as jsep.Expression, ctx);
    case 'ArrayExpression': {
      const els = n['elements'] as jsep.Expression[];
      charge(ctx, els.length);
      return sized(
        ctx,
        els.map((e) => {
          const v = ev(e, ctx);
          return v === undefined ? null : v;
        }),
      );
    }
    case 'MemberExpression':
      return member(n, ctx);
    case 'CallExpression':
      return call(n, ctx);
    default:
      throw typeErr(ctx, `${n.type} is not in the subset`);
  }
}

function member(n: jsep.Expression, ctx: Ctx): V {
  const objNode = n['object'] as jsep.Expression;
  if (n['computed'] !== true) {
    const prop = (n['property'] as jsep.Identifier).name;
    if (objNode.type === 'Identifier' && objNode['name'] === 'Math') {
      if (!MATH_CONSTANTS.has(prop)) throw typeErr(ctx, `Math.${prop} is not a constant of the subset`);
      return Math[prop as 'PI'];
    }
    const o = ev(objNode, ctx);
    if (prop === 'length' && (typeof o === 'string' || Array.isArray(o))) return o.length;
    throw typeErr(ctx, `.${prop} of a ${o === null ? 'null' : Array.isArray(o) ? 'array' : typeof o} is not readable`);
  }
  const o = ev(objNode, ctx);
  const i = ev(n['property'] as jsep.Expression, ctx);
  if (typeof o !== 'string' && !Array.isArray(o)) throw typeErr(ctx, 'only arrays and strings are indexed');
  if (typeof i !== 'number' || !Number.isInteger(i)) throw typeErr(ctx, 'an index is an integer');
  const v = (o as readonly Value[] | string)[i];
  return v === undefined ? null : v;
}

const argKinds = (args: readonly V[]): boolean => args.every((a) => a === undefined || a === null || typeof a !== 'object');

function call(n: jsep.Expression, ctx: Ctx): V {
  const callee = n['callee'] as jsep.Expression;
  const name = (callee['property'] as jsep.Identifier).name;
  const objNode = callee['object'] as jsep.Expression;
  const isMath = objNode.type === 'Identifier' && objNode['name'] === 'Math';
  const recv = isMath ? undefined : ev(objNode, ctx);
  const args = (n['arguments'] as jsep.Expression[]).map((a) => ev(a, ctx));
  if (isMath) {
    if (!MATH_FNS.has(name)) throw typeErr(ctx, `Math.${name} is not a function of the subset`);
    if (!args.every((a) => typeof a === 'number' || a === null)) throw typeErr(ctx, `Math.${name} takes numbers`);
    charge(ctx, args.length);
    return (Math[name as 'max'] as (...xs: number[]) => number)(...(args as number[]));
  }
  if (typeof recv === 'string' && STRING_METHODS.has(name)) {
    if (name !== 'concat' && !argKinds(args)) throw typeErr(ctx, `.${name}() takes no array arguments on a string`);
    if ((name === 'repeat' || name === 'padStart' || name === 'padEnd') && typeof args[0] === 'number') {
      const target = name === 'repeat' ? recv.length * args[0] : args[0];
      if (!(target <= MAX_STRING)) throw new Stop(composeError('FERRY_COMPOSE_TOO_LARGE', `a string longer than ${MAX_STRING}`, ctx.where));
    }
    charge(ctx, 1 + (recv.length >> 6));
    const out = (String.prototype[name as 'slice'] as (...xs: unknown[]) => unknown).apply(recv, args) as V;
    return sized(ctx, out === undefined ? null : out);
  }
  if (Array.isArray(recv) && ARRAY_METHODS.has(name)) {
    if (name !== 'concat' && !argKinds(args)) throw typeErr(ctx, `.${name}() takes no array arguments`);
    charge(ctx, 1 + recv.length);
    if (name === 'reverse') return [...recv].reverse();
    if (name === 'concat') {
      const total = args.reduce<number>((s, a) => s + (Array.isArray(a) ? a.length : 1), recv.length);
      if (total > MAX_ARRAY) throw new Stop(composeError('FERRY_COMPOSE_TOO_LARGE', `an array longer than ${MAX_ARRAY}`, ctx.where));
    }
    const out = (Array.prototype[name as 'slice'] as (...xs: unknown[]) => unknown).apply(recv, args) as V;
    return sized(ctx, out === undefined ? null : out);
  }
  if (typeof recv === 'number' && NUMBER_METHODS.has(name)) {
    const digits = args[0] ?? 0;
    if (typeof digits !== 'number' || !Number.isInteger(digits) || digits < 0 || digits > 20) throw typeErr(ctx, '.toFixed() takes an integer 0-20');
    return recv.toFixed(digits);
  }
  throw typeErr(ctx, `.${name}() is not a method of a ${recv === null ? 'null' : Array.isArray(recv) ? 'array' : typeof recv}`);
}
