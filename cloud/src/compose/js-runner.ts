/**
 * @module The composite-stream engine's JavaScript port (packages/compose JsRunner) on the QuickJS sandbox
 * (@ferry/js-sandbox): a ServIoTicy 0.2.0 function runs unchanged in its owner's sandbox. ServIoTicy's
 * functions also read free variables (their own stream's previous output by the stream's name, and
 * `$input`); the sandbox takes one function and its arguments only, so the user's function is called from
 * a small wrapper that declares those names as locals from its first argument. A failure of any kind comes
 * back as FERRY_COMPOSE_RUNNER naming the sandbox's FERRY_JS_* code; the engine counts it per stream.
 */
import { composeError, type JsRunner } from '@ferry/compose';
import { type JsSandboxPool, type Json, withoutTrailingSemicolons } from '@ferry/js-sandbox';

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
/** Names a wrapper must not declare (they would not compile, or would shadow what the wrapper uses). */
const RESERVED = new Set(
  'arguments await break case catch class const continue debugger default delete do else enum eval export extends false finally for function if implements import in instanceof interface let new null package private protected public return static super switch this throw true try typeof var void while with yield undefined NaN Infinity __ferry_globals __ferry_args'.split(
    ' ',
  ),
);

/** The wrapper for `source` given free variables `names`: one function, as the sandbox requires. */
export function wrapped(source: string, names: readonly string[]): string {
  // The user's text ends the parenthesised expression on a new line (a trailing line comment cannot swallow
  // the parenthesis) and without the semicolons that may end it (`function(a){...}; // note`: they cannot
  // stand inside parentheses).
  const fn = withoutTrailingSemicolons(source);
  const locals = names.map((n) => `var ${n} = __ferry_globals[${JSON.stringify(n)}];`).join(' ');
  return `function (__ferry_globals, __ferry_args) { ${locals} return (\n${fn}\n).apply(null, __ferry_args); }`;
}

export function sandboxJsRunner(pool: JsSandboxPool): JsRunner {
  return {
    run(source, args, globals, ctx) {
      const names = Object.keys(globals)
        .filter((n) => IDENTIFIER.test(n) && !RESERVED.has(n))
        .sort();
      const free = Object.fromEntries(names.map((n) => [n, globals[n] ?? null])) as Json;
      const r = pool.run(ctx.owner, wrapped(source, names), [free, args as unknown as Json]);
      if (r.ok) return { ok: true, value: r.value };
      return { ok: false, error: composeError('FERRY_COMPOSE_RUNNER', `${r.error.code}: ${r.error.message}`, { so: ctx.so, stream: ctx.stream }) };
    },
  };
}
