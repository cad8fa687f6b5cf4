/**
 * @module Call arguments checked against the export's wasm signature (read by wasm-host's inspect,
 * WebAssembly core spec §5.5): count and type of each. JSON has no 64-bit integers, so i64 travels as a
 * decimal string (or a bigint in process, or a safe integer); i32 accepts the signed and unsigned range,
 * as WebAssembly's ToInt32 would wrap it (JS API §ToWebAssemblyValue).
 */
import { convertArg, type FuncType } from '@ferry/wasm-host';
import { fnFail, fnOk, type FnResult } from './errors.ts';

export type ArgValue = number | string | bigint;
export type ResultType = 'i32' | 'i64' | 'f32' | 'f64' | 'void';

/** Converts `args` for a call to a function of type `type`; a typed error names the first bad one. */
export function convertArgs(type: FuncType, args: readonly unknown[]): FnResult<(number | bigint)[]> {
  if (args.length !== type.params.length) return fnFail('FERRY_FN_BAD_ARGS', `expected ${type.params.length} args ${JSON.stringify(type.params)}, got ${args.length}`);
  const out: (number | bigint)[] = [];
  for (let i = 0; i < args.length; i++) {
    const c = convertArg(type.params[i]!, args[i], i);
    if (typeof c === 'string') return fnFail('FERRY_FN_BAD_ARGS', c);
    out.push(c);
  }
  return fnOk(out);
}

/** The result type of an export callable from the cloud (one result or none). */
export function resultTypeOf(type: FuncType): ResultType | undefined {
  if (type.results.length === 0) return 'void';
  const r = type.results[0];
  return type.results.length === 1 && (r === 'i32' || r === 'i64' || r === 'f32' || r === 'f64') ? r : undefined;
}
