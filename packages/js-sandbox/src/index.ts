/**
 * @module @ferry/js-sandbox: runs ServIoTicy 0.2.0 composite-stream functions (`function(A, group){...}`)
 * unchanged in QuickJS compiled to WebAssembly. Plain JSON data in and out, no host objects, and per
 * owner a heap limit, a stack limit and a deadline per call; every failure is a typed `FERRY_JS_*` error
 * (docs/js-sandbox.md).
 */
export { JS_ERRORS, JsError, type JsErrorCode, type JsResult, type Json } from './errors.ts';
export { DEFAULT_LIMITS, type JsCallLimits, type JsLimits, type JsRuntimeLimits } from './limits.ts';
export { JsSandboxPool, type JsSandboxPoolOptions, type JsSandboxStats } from './pool.ts';
export { JsSandbox, withoutTrailingSemicolons } from './sandbox.ts';
