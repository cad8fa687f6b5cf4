/**
 * @module The wasm host's error catalog (7200-7299). A module that does not parse is FERRY_WASM_MALFORMED
 * here; checkModule reports it to callers as FERRY_ABI_MALFORMED with this message, so hosts see ABI codes
 * only. docs/errors.md lists every catalog.
 */
import { defineErrors } from '@ferry/base';

const WASM = defineErrors(
  'FERRY_WASM_',
  [7200, 7299],
  {
    FERRY_WASM_MALFORMED: {
      num: 7201,
      status: 400,
      doc: 'the bytes are not a wasm 1.0 binary this reader accepts (bad magic or version, truncated section, bad LEB128, unknown type or kind, non-UTF-8 name)',
    },
  },
  { package: '@ferry/wasm-host', errorName: 'WasmFormatError' },
);

export const WASM_ERRORS = WASM.codes;
export type WasmErrorCode = keyof typeof WASM_ERRORS;

/** Thrown inside the reader, returned by `inspect` (never thrown to its callers). */
export class WasmFormatError extends WASM.Error {
  declare readonly code: 'FERRY_WASM_MALFORMED';
  constructor(detail: string) {
    super('FERRY_WASM_MALFORMED', detail);
  }
}
