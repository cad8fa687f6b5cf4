/**
 * @module The JavaScript sandbox's error catalog: every `FERRY_JS_*` code, its 7500-7599 wire number, its
 * HTTP status and a one-line doc. docs/errors.md lists every catalog; docs/js-sandbox.md says when each
 * code occurs. Sub-ranges: 750x the source and the arguments (refused before the function runs), 751x the
 * run (the function threw or hit a limit), 752x the result, 759x the engine itself.
 */
import { defineErrors, type Result } from '@ferry/base';

const JS = defineErrors(
  'FERRY_JS_',
  [7500, 7599],
  {
    FERRY_JS_SYNTAX: {
      num: 7501,
      status: 400,
      doc: 'the source does not compile, or is not exactly one function (an expression or a declaration, comments around it allowed); the message gives the reason and the line:column',
    },
    FERRY_JS_SOURCE_TOO_LARGE: { num: 7502, status: 413, doc: 'the source is longer than the sandbox accepts (maxSourceBytes, UTF-8)' },
    FERRY_JS_ARGS_INVALID: {
      num: 7503,
      status: 400,
      doc: 'an argument is not plain JSON data (null, booleans, finite numbers, strings, arrays and plain objects of them, nested at most maxDepth deep)',
    },
    FERRY_JS_ARGS_TOO_LARGE: { num: 7504, status: 413, doc: 'the arguments, as JSON text, are longer than the sandbox accepts (maxArgsBytes)' },
    FERRY_JS_EXCEPTION: { num: 7510, status: 422, doc: "the function threw; the message is the thrown value's name and message, never a stack" },
    FERRY_JS_TIMEOUT: {
      num: 7511,
      status: 504,
      doc: "the compilation or the call ran past its deadline and was interrupted; the owner's sandbox keeps serving the next call",
    },
    FERRY_JS_OUT_OF_MEMORY: {
      num: 7512,
      status: 422,
      doc: "the owner's heap reached its limit (memoryBytes); the owner's runtime is discarded and the next call starts a fresh one",
    },
    FERRY_JS_STACK_OVERFLOW: { num: 7513, status: 422, doc: 'the call nested deeper than the stack limit allows (stackBytes): a recursion too deep' },
    FERRY_JS_BAD_RESULT: {
      num: 7520,
      status: 422,
      doc: 'the function returned something that is not plain JSON data (undefined, a function, a symbol, a bigint, a non-finite number, a getter, a class instance, a cycle) or a result longer than maxResultBytes',
    },
    FERRY_JS_UNAVAILABLE: {
      num: 7590,
      status: 503,
      doc: 'the engine failed underneath the function (a host stack exhausted, an engine fault); it is being replaced, every runtime restarts; retry later',
    },
  },
  { package: '@ferry/js-sandbox', errorName: 'JsError' },
);

export const JS_ERRORS = JS.codes;
export type JsErrorCode = keyof typeof JS_ERRORS;

/** The sandbox's one error type; `run` returns it in a `Result`, never throws it. */
export class JsError extends JS.Error {}

/** What `run` returns: the function's JSON result, or a typed error. */
export type JsResult = Result<Json, JsError>;

export const jsFail = (code: JsErrorCode, detail: string): { readonly ok: false; readonly error: JsError } => ({
  ok: false,
  error: new JsError(code, detail),
});

/** Plain JSON data: what goes into a function and what may come out of it. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };
