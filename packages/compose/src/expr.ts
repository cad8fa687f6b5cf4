/**
 * @module ServIoTicy 0.1.0 templates, compiled for the fast path. A template is a JavaScript expression in
 * which `{$A.channels.a.current-value}` (or `['current-value']`), `{$A.lastUpdate}`, `{$.lastUpdate}` (the
 * update that triggered the computation) and, in a post-filter, `{$result...}` stand for input values.
 * Each reference is replaced by an identifier of the same length (so positions still point into the
 * original text), the text is parsed with jsep (a parser only: nothing is ever evaluated by JavaScript),
 * and the tree is checked against the subset eval.ts evaluates. docs/composite-streams.md lists it.
 */
import jsep from 'jsep';
import { type ComposeError, type ErrorWhere, composeError } from './errors.ts';

/** One `{$name.path}` of a template: `name` is '' for `$`, the path is `['lastUpdate']` or `['channels', ch, 'current-value']`. */
export interface Ref {
  readonly name: string;
  readonly path: readonly string[];
}

export interface CompiledExpr {
  readonly source: string;
  readonly ast: jsep.Expression;
  readonly refs: readonly Ref[];
  /** The identifier each ref was replaced with, by ref index. */
  readonly ids: ReadonlyMap<string, number>;
}

export const MAX_EXPR_LENGTH = 4096;
export const MAX_REFS = 256;
const MAX_DEPTH = 512;

export const MATH_FNS = new Set([
  'abs',
  'acos',
  'asin',
  'atan',
  'atan2',
  'cbrt',
  'ceil',
  'cos',
  'exp',
  'floor',
  'hypot',
  'log',
  'log10',
  'log2',
  'max',
  'min',
  'pow',
  'round',
  'sign',
  'sin',
  'sqrt',
  'tan',
  'trunc',
]);
export const MATH_CONSTANTS = new Set(['E', 'LN2', 'LN10', 'LOG2E', 'LOG10E', 'PI', 'SQRT1_2', 'SQRT2']);
export const STRING_METHODS = new Set([
  'at',
  'charAt',
  'charCodeAt',
  'concat',
  'endsWith',
  'includes',
  'indexOf',
  'lastIndexOf',
  'padEnd',
  'padStart',
  'repeat',
  'replace',
  'replaceAll',
  'slice',
  'split',
  'startsWith',
  'substring',
  'toLowerCase',
  'toUpperCase',
  'trim',
  'trimEnd',
  'trimStart',
]);
export const ARRAY_METHODS = new Set(['at', 'concat', 'includes', 'indexOf', 'join', 'lastIndexOf', 'reverse', 'slice']);
export const NUMBER_METHODS = new Set(['toFixed']);
const GLOBALS = new Set(['Math', 'undefined', 'NaN', 'Infinity']);
const BANNED_NAMES = new Set(['constructor', '__proto__', 'prototype', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__']);

const REF = /\{\$([A-Za-z0-9_-]*)((?:\.[A-Za-z0-9_$-]+|\[\s*'[^'{}]*'\s*\]|\[\s*"[^"{}]*"\s*\])*)\}/g;

type Res<T> = { ok: true; value: T } | { ok: false; error: ComposeError };
const fail = (error: ComposeError): { ok: false; error: ComposeError } => ({ ok: false, error });

function pathOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/\.([A-Za-z0-9_$-]+)|\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\]/g)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

/**
 * Compiles a template. `names` are the references it may use (streams of the object, groups, and the
 * extra names of the context: `result` in a post-filter); '' (`{$.lastUpdate}`) is always allowed.
 */
export function compileTemplate(source: string, names: ReadonlySet<string>, where: ErrorWhere): Res<CompiledExpr> {
  if (source.length > MAX_EXPR_LENGTH) return fail(composeError('FERRY_COMPOSE_TOO_LARGE', `an expression is at most ${MAX_EXPR_LENGTH} characters`, where));
  const refs: Ref[] = [];
  const ids = new Map<string, number>();
  let problem: ComposeError | undefined;
  const text = source.replace(REF, (whole: string, name: string, rest: string, offset: number) => {
    const path = pathOf(rest);
    const at = { ...where, position: offset };
    const okPath = (path.length === 1 && path[0] === 'lastUpdate') || (path.length === 3 && path[0] === 'channels' && path[2] === 'current-value');
    if (problem === undefined && !okPath)
      problem = composeError('FERRY_COMPOSE_REFERENCE', `${whole} reads neither .channels.<ch>.current-value nor .lastUpdate`, at);
    if (problem === undefined && name !== '' && !names.has(name)) problem = composeError('FERRY_COMPOSE_REFERENCE', `$${name} names no stream or group`, at);
    if (problem === undefined && refs.length >= MAX_REFS) problem = composeError('FERRY_COMPOSE_TOO_LARGE', `more than ${MAX_REFS} references`, at);
    const id = `$${refs.length}`.padEnd(whole.length, '$');
    ids.set(id, refs.length);
    refs.push({ name, path });
    return id;
  });
  if (problem !== undefined) return fail(problem);
  const stray = /\{\$/.exec(text);
  if (stray !== null)
    return fail(
      composeError('FERRY_COMPOSE_SYNTAX', 'a reference is {$<stream>.channels.<ch>.current-value} or {$<stream>.lastUpdate}', {
        ...where,
        position: stray.index,
      }),
    );
  let ast: jsep.Expression;
  try {
    ast = jsep(text);
  } catch (e) {
    if (e instanceof RangeError) return fail(composeError('FERRY_COMPOSE_TOO_LARGE', 'the expression nests too deeply', where));
    const index = typeof (e as { index?: unknown }).index === 'number' ? (e as { index: number }).index : 0;
    const description = (e as { description?: unknown }).description;
    return fail(composeError('FERRY_COMPOSE_SYNTAX', typeof description === 'string' ? description : 'does not parse', { ...where, position: index }));
  }
  const bad = check(ast, ids, 0);
  if (bad !== undefined) return fail(composeError(bad.code, bad.detail, where));
  return { ok: true, value: { source, ast, refs, ids } };
}

type Problem = { code: 'FERRY_COMPOSE_EXPR_FORBIDDEN' | 'FERRY_COMPOSE_SYNTAX' | 'FERRY_COMPOSE_TOO_LARGE'; detail: string } | undefined;
const forbid = (detail: string): Problem => ({ code: 'FERRY_COMPOSE_EXPR_FORBIDDEN', detail });

/** Checks a tree against the subset; the evaluator checks again at run time what depends on values. */
function check(n: jsep.Expression, ids: ReadonlyMap<string, number>, depth: number): Problem {
  if (depth > MAX_DEPTH) return { code: 'FERRY_COMPOSE_TOO_LARGE', detail: `the expression nests deeper than ${MAX_DEPTH}` };
  const sub = (x: jsep.Expression | null | undefined): Problem => (x === null || x === undefined ? undefined : check(x, ids, depth + 1));
  switch (n.type) {
    case 'Literal':
      return typeof n['value'] === 'object' && n['value'] !== null ? forbid('regular expressions are not in the subset') : undefined;
    case 'Identifier': {
      const name = n['name'] as string;
      if (ids.has(name)) return undefined;
      if (name === 'Math') return forbid('Math is used as Math.<function>(...) or Math.<constant>');
      return GLOBALS.has(name) ? undefined : forbid(`unknown identifier ${name}`);
    }
    case 'UnaryExpression':
      return sub(n['argument'] as jsep.Expression);
    case 'BinaryExpression':
    case 'LogicalExpression':
      return sub(n['left'] as jsep.Expression) ?? sub(n['right'] as jsep.Expression);
    case 'ConditionalExpression':
      return sub(n['test'] as jsep.Expression) ?? sub(n['consequent'] as jsep.Expression) ?? sub(n['alternate'] as jsep.Expression);
    case 'ArrayExpression':
      for (const e of n['elements'] as (jsep.Expression | null)[]) {
        if (e === null) return forbid('holes in array literals are not in the subset');
        const p = sub(e);
        if (p !== undefined) return p;
      }
      return undefined;
    case 'MemberExpression': {
      const obj = n['object'] as jsep.Expression;
      if (n['optional'] === true) return forbid('optional chaining is not in the subset');
      if (n['computed'] === true)
        return obj.type === 'Identifier' && obj['name'] === 'Math'
          ? forbid('Math is indexed by name only')
          : (sub(obj) ?? sub(n['property'] as jsep.Expression));
      const prop = (n['property'] as jsep.Identifier).name;
      if (BANNED_NAMES.has(prop)) return forbid(`${prop} is never readable`);
      if (obj.type === 'Identifier' && obj['name'] === 'Math')
        return MATH_CONSTANTS.has(prop) ? undefined : forbid(`Math.${prop} is not a constant of the subset`);
      return prop === 'length' ? sub(obj) : forbid(`.${prop} is read only as a call of a white-listed method`);
    }
    case 'CallExpression': {
      const callee = n['callee'] as jsep.Expression;
      if (callee.type !== 'MemberExpression' || callee['computed'] === true || callee['optional'] === true)
        return forbid('only Math.<fn>(...) and white-listed methods may be called');
      const obj = callee['object'] as jsep.Expression;
      const name = (callee['property'] as jsep.Identifier).name;
      if (obj.type === 'Identifier' && obj['name'] === 'Math') {
        if (!MATH_FNS.has(name)) return forbid(`Math.${name} is not a function of the subset`);
      } else {
        if (!(STRING_METHODS.has(name) || ARRAY_METHODS.has(name) || NUMBER_METHODS.has(name))) return forbid(`.${name}() is not a white-listed method`);
        const p = sub(obj);
        if (p !== undefined) return p;
      }
      for (const a of n['arguments'] as jsep.Expression[]) {
        const p = sub(a);
        if (p !== undefined) return p;
      }
      return undefined;
    }
    case 'ThisExpression':
      return forbid('this is not in the subset');
    case 'Compound':
    case 'SequenceExpression':
      return forbid('a template is one expression (no comma or semicolon sequences)');
    default:
      return forbid(`${n.type} is not in the subset`);
  }
}
