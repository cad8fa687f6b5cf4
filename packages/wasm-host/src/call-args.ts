/**
 * @module Call arguments checked against the export's wasm signature (read by inspect.ts, WebAssembly core
 * spec §5.5), shared by every host that calls exports with JSON arguments: the cloud's function runners and a
 * board's local runs, so both accept and refuse exactly the same arguments. JSON has no 64-bit integers, so
 * i64 travels as a decimal string (or a bigint in process, or a safe integer); i32 accepts the signed and
 * unsigned range, as WebAssembly's ToInt32 would wrap it (JS API §ToWebAssemblyValue).
 */
import { fnFail, fnOk, type FnResult } from './call-errors.ts';
import type { FuncType, ValType } from './inspect.ts';

/** What a call passes: i64 as a decimal string or bigint, the other types as numbers. */
export type ArgValue = number | string | bigint;
/** The result type of an export a call can carry: one scalar, or none. */
export type ResultType = 'i32' | 'i64' | 'f32' | 'f64' | 'void';

const I64_MIN = -(2n ** 63n);
const U64_MAX = 2n ** 64n - 1n;
const DECIMAL = /^-?(0|[1-9][0-9]{0,19})$/;

/** The value to pass for arg `i` of type `t`, or a message saying why `v` cannot be one. */
export function convertArg(t: ValType, v: unknown, i: number): number | bigint | string {
  switch (t) {
    case 'i32':
      if (typeof v === 'number' && Number.isInteger(v) && v >= -(2 ** 31) && v <= 2 ** 32 - 1) return v;
      return `arg ${i} must be an i32 (an integer in [-2^31, 2^32))`;
    case 'i64': {
      let b: bigint | undefined;
      if (typeof v === 'bigint') b = v;
      else if (typeof v === 'string' && DECIMAL.test(v)) b = BigInt(v);
      else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
      if (b !== undefined && b >= I64_MIN && b <= U64_MAX) return b;
      return `arg ${i} must be an i64 (a decimal string, bigint or safe integer in [-2^63, 2^64))`;
    }
    case 'f32':
    case 'f64':
      return typeof v === 'number' ? v : `arg ${i} must be a number`;
    default:
      return `arg ${i} has type ${t}, which cannot be passed in a call`;
  }
}

/** Converts `args` for a call to a function of type `type`; FERRY_FN_BAD_ARGS names the first bad one. */
export function convertArgs(type: FuncType, args: readonly unknown[]): FnResult<(number | bigint)[]> {
  if (args.length !== type.params.length)
    return fnFail('FERRY_FN_BAD_ARGS', `expected ${type.params.length} args ${JSON.stringify(type.params)}, got ${args.length}`);
  const out: (number | bigint)[] = [];
  for (let i = 0; i < args.length; i++) {
    const c = convertArg(type.params[i]!, args[i], i);
    if (typeof c === 'string') return fnFail('FERRY_FN_BAD_ARGS', c);
    out.push(c);
  }
  return fnOk(out);
}

/** The result type of an export a call can carry (one result or none); undefined for any other. */
export function resultTypeOf(type: FuncType): ResultType | undefined {
  if (type.results.length === 0) return 'void';
  const r = type.results[0];
  return type.results.length === 1 && (r === 'i32' || r === 'i64' || r === 'f32' || r === 'f64') ? r : undefined;
}
