/**
 * @module The gateway's JavaScript port for composite streams: a ServIoTicy 0.2.0 function runs unchanged in
 * its owner's QuickJS sandbox (@ferry/js-sandbox, docs/js-sandbox.md), as it does in the cloud, so an object
 * computes the same on either side of a move. The free variables such a function reads (its stream's previous
 * output by the stream's name, `$input`) are looked up in a plain object through a sloppy-mode `with` around
 * the unchanged function: the sandbox has no other host object to reach. Any failure is FERRY_COMPOSE_RUNNER
 * naming the sandbox's FERRY_JS_* code; the engine counts it per stream.
 */
import { composeError, type JsRunner } from '@ferry/compose';
import { type JsSandboxPool, type Json, withoutTrailingSemicolons } from '@ferry/js-sandbox';

/** One function for the sandbox: the user's text on lines of its own, so a trailing line comment closes nothing. */
const scoped = (source: string): string =>
  `function (__scope, __args) { with (__scope) { return (\n${withoutTrailingSemicolons(source)}\n).apply(null, __args); } }`;

export function gatewayJsRunner(pool: JsSandboxPool): JsRunner {
  return {
    run(source, args, globals, ctx) {
      const r = pool.run(ctx.owner, scoped(source), [globals as unknown as Json, args as unknown as Json]);
      if (r.ok) return { ok: true, value: r.value };
      return { ok: false, error: composeError('FERRY_COMPOSE_RUNNER', `${r.error.code}: ${r.error.message}`, { so: ctx.so, stream: ctx.stream }) };
    },
  };
}
