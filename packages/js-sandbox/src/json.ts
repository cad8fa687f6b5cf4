/**
 * @module Arguments cross into the sandbox as JSON text, so the function receives a deep copy and never a
 * host object. This checks on the host side that an argument is plain data before it is serialised:
 * `JSON.stringify` alone would quietly turn `undefined` into nothing, `NaN` into null and a Date into a
 * string, and would run a `toJSON` of the caller's.
 */
import { type JsError, jsFail } from './errors.ts';

const plainProto = (v: object): boolean => {
  const p = Object.getPrototypeOf(v) as unknown;
  return p === Object.prototype || p === null;
};

/** Why `v` is not plain JSON data nested at most `maxDepth` deep, or undefined when it is. */
export function notJson(v: unknown, maxDepth: number, path = '$', depth = 0): string | undefined {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? undefined : `${path} is ${v}, not a finite number`;
  if (typeof v !== 'object') return `${path} is a ${typeof v}`;
  if (depth >= maxDepth) return `${path} is nested deeper than ${maxDepth}`;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      if (!(i in v)) return `${path}[${i}] is a hole`;
      const why = notJson(v[i], maxDepth, `${path}[${i}]`, depth + 1);
      if (why !== undefined) return why;
    }
    return undefined;
  }
  if (!plainProto(v)) return `${path} is not a plain object`;
  if (Object.getOwnPropertySymbols(v).length > 0) return `${path} has a symbol key`;
  for (const key of Object.keys(v)) {
    const d = Object.getOwnPropertyDescriptor(v, key);
    if (d === undefined || !('value' in d)) return `${path}.${key} is a getter`;
    const why = notJson(d.value, maxDepth, `${path}.${key}`, depth + 1);
    if (why !== undefined) return why;
  }
  return undefined;
}

/** The arguments as one JSON array text, or the typed refusal. */
export function argsText(
  args: readonly unknown[],
  maxDepth: number,
  maxBytes: number,
): { readonly ok: true; readonly value: string } | { readonly ok: false; readonly error: JsError } {
  if (!Array.isArray(args)) return jsFail('FERRY_JS_ARGS_INVALID', 'the arguments are not an array');
  const why = notJson(args, maxDepth + 1);
  if (why !== undefined) return jsFail('FERRY_JS_ARGS_INVALID', why.replace(/^\$\[(\d+)\]/, 'argument $1'));
  const text = JSON.stringify(args);
  // A UTF-16 unit is at most 3 UTF-8 bytes: encode only when that bound does not settle it.
  const bytes = text.length * 3 <= maxBytes ? text.length : utf8Length(text);
  if (bytes > maxBytes) return jsFail('FERRY_JS_ARGS_TOO_LARGE', `the arguments are ${bytes} bytes of JSON, more than ${maxBytes}`);
  return { ok: true, value: text };
}

const encoder = new TextEncoder();

export const utf8Length = (s: string): number => encoder.encode(s).length;
