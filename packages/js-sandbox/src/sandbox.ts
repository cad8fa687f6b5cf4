/**
 * @module One owner's sandbox: a QuickJS runtime (its own heap limit, stack limit and interrupt deadline)
 * with one context, the prelude's helpers and the owner's compiled functions, cached by the SHA-256 of
 * their source. Nothing of the host is reachable from inside: the context holds the standard objects
 * only (no console, timers, modules or I/O), arguments enter as JSON text and results leave as JSON text.
 *
 * What a call can do to its owner: time out (the deadline interrupts it; the runtime stays usable), run
 * out of heap (the runtime is discarded and the next call boots a fresh one), leave a global it made
 * undeletable or queued jobs behind (the runtime is discarded too). What it cannot do: reach another
 * owner's runtime, each has its own heap and limits. An engine fault underneath (the host's own stack
 * exhausted inside the engine) makes the shared WebAssembly module unusable: the pool replaces it.
 */
import { createHash } from 'node:crypto';
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime, QuickJSWASMModule } from 'quickjs-emscripten';
import { type JsErrorCode, type JsResult, jsFail } from './errors.ts';
import { argsText, utf8Length } from './json.ts';
import { type JsCallLimits, type JsLimits, limitsWith } from './limits.ts';
import { preludeSource } from './prelude.ts';

/** What an owner's sandbox needs from its pool: the shared engine, and where to report that it broke. */
export interface Engine {
  /** The live WebAssembly module, or undefined while a replacement loads. */
  module(): QuickJSWASMModule | undefined;
  /** Changes each time the module is replaced: runtimes of an older generation are gone. */
  readonly generation: number;
  /** The module failed underneath a call (not a JavaScript error): stop using it. */
  fault(cause: unknown): void;
}

interface Live {
  readonly generation: number;
  readonly rt: QuickJSRuntime;
  readonly vm: QuickJSContext;
  readonly invoke: QuickJSHandle;
  readonly describe: QuickJSHandle;
  readonly seal: QuickJSHandle;
  readonly freezeFn: QuickJSHandle;
  readonly clean: QuickJSHandle;
  /** Compiled functions by SHA-256 of their source; Map order is recency (oldest first). */
  readonly fns: Map<string, QuickJSHandle>;
}

type Step<T> = { readonly ok: true; readonly value: T } | ReturnType<typeof jsFail>;

/** Text around the function that does not change what the source is: blanks, semicolons, comments. */
const INERT = /^(?:\s|;|\/\/[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*$/;

export class JsSandbox {
  readonly owner: string;
  readonly #engine: Engine;
  readonly #limits: JsLimits;
  #live: Live | undefined;
  #deadline = Number.POSITIVE_INFINITY;
  #interrupted = false;
  #resets = 0;

  constructor(owner: string, engine: Engine, limits: JsLimits) {
    this.owner = owner;
    this.#engine = engine;
    this.#limits = limits;
  }

  /** Times the owner's runtime was discarded (out of memory, a global left behind, an engine fault). */
  get resets(): number {
    return this.#resets;
  }

  /** Compiled functions held now. */
  get functions(): number {
    return this.#live?.fns.size ?? 0;
  }

  /**
   * Calls the function `source` (compiled at its first call, then cached) with `args` as plain data.
   * Never throws: every failure is a typed `JsError` in the result.
   */
  run(source: string, args: readonly unknown[], limits?: Partial<JsCallLimits>): JsResult {
    try {
      const lim = limitsWith<JsCallLimits>(this.#limits, limits);
      if (typeof source !== 'string') return jsFail('FERRY_JS_SYNTAX', 'the source is not a string');
      if (source.length > this.#limits.maxSourceBytes || utf8Length(source) > this.#limits.maxSourceBytes)
        return jsFail('FERRY_JS_SOURCE_TOO_LARGE', `the source is longer than ${this.#limits.maxSourceBytes} bytes`);
      const text = argsText(args, this.#limits.maxDepth, this.#limits.maxArgsBytes);
      if (!text.ok) return text;
      const live = this.#boot();
      if (!live.ok) return live;
      const fn = this.#compiled(live.value, source, lim.timeoutMs);
      if (!fn.ok) return fn;
      return this.#call(live.value, fn.value, text.value, lim);
    } catch (cause) {
      // Only the host's own stack running out lands here (inside the engine or just before it); the
      // engine's state is then unknown, so the module is replaced even if the fault came before it.
      return this.#faulted(cause);
    }
  }

  /** Frees the owner's runtime (the next call boots a fresh one). */
  dispose(): void {
    const live = this.#live;
    this.#live = undefined;
    if (live === undefined || live.generation !== this.#engine.generation) return;
    try {
      for (const h of live.fns.values()) h.dispose();
      for (const h of [live.invoke, live.describe, live.seal, live.freezeFn, live.clean]) h.dispose();
      live.vm.dispose();
      live.rt.dispose();
    } catch (cause) {
      this.#engine.fault(cause);
    }
  }

  #faulted(cause: unknown): JsResult {
    this.#live = undefined; // its module is being discarded: nothing of it can be freed safely
    this.#resets++;
    this.#engine.fault(cause);
    return jsFail('FERRY_JS_UNAVAILABLE', 'the engine failed underneath the call and is being replaced; retry');
  }

  #boot(): Step<Live> {
    if (this.#live !== undefined && this.#live.generation === this.#engine.generation) return { ok: true, value: this.#live };
    this.#live = undefined;
    const mod = this.#engine.module();
    if (mod === undefined) return jsFail('FERRY_JS_UNAVAILABLE', 'the engine is being replaced; retry');
    const generation = this.#engine.generation;
    const rt = mod.newRuntime();
    rt.setMemoryLimit(this.#limits.memoryBytes);
    rt.setMaxStackSize(this.#limits.stackBytes);
    rt.setInterruptHandler(() => {
      if (performance.now() <= this.#deadline) return false;
      this.#interrupted = true;
      return true;
    });
    const vm = rt.newContext();
    const r = vm.evalCode(preludeSource(this.#limits.maxDepth), 'prelude.js');
    if (r.error) {
      const why = JSON.stringify(vm.dump(r.error));
      r.error.dispose();
      vm.dispose();
      rt.dispose();
      throw new Error(`the sandbox prelude failed: ${why}`);
    }
    const get = (name: string): QuickJSHandle => vm.getProp(r.value, name);
    const live: Live = {
      generation,
      rt,
      vm,
      invoke: get('invoke'),
      describe: get('describe'),
      seal: get('seal'),
      freezeFn: get('freezeFn'),
      clean: get('clean'),
      fns: new Map(),
    };
    r.value.dispose();
    this.#live = live;
    return { ok: true, value: live };
  }

  /** Arms the deadline; every entry into the engine runs armed. */
  #arm(timeoutMs: number): void {
    this.#interrupted = false;
    this.#deadline = performance.now() + timeoutMs;
  }

  #disarm(): void {
    this.#deadline = Number.POSITIVE_INFINITY;
  }

  #compiled(live: Live, source: string, timeoutMs: number): Step<QuickJSHandle> {
    const key = createHash('sha256').update(source).digest('hex');
    const hit = live.fns.get(key);
    if (hit !== undefined) {
      live.fns.delete(key);
      live.fns.set(key, hit);
      return { ok: true, value: hit };
    }
    const { vm } = live;
    this.#arm(timeoutMs);
    try {
      // Parenthesised, a declaration `function f(){}` and an expression `function(){}` both evaluate to
      // the function; the newline ends a trailing line comment before the closing parenthesis.
      let r = vm.evalCode(`(${source.replace(/[\s;]+$/, '')}\n)`, 'composite.js');
      const alt = r.error ? withoutTrailingSemicolons(source) : source;
      if (r.error && alt !== source) {
        r.error.dispose();
        r = vm.evalCode(`(${alt}\n)`, 'composite.js');
      }
      if (r.error) return this.#compileError(live, r.error);
      const sealed = this.#callString(live, live.seal, r.value);
      const at = sealed?.startsWith('=') === true ? source.indexOf(sealed.slice(1)) : -1;
      if (sealed === undefined || at < 0 || !INERT.test(source.slice(0, at)) || !INERT.test(source.slice(at + sealed.length - 1))) {
        r.value.dispose();
        this.#cleanUp(live);
        const why = sealed?.startsWith('!') === true ? sealed.slice(1) : 'the source is not exactly one function: it holds code around it';
        return this.#interrupted ? jsFail('FERRY_JS_TIMEOUT', `compiling took longer than ${timeoutMs} ms`) : jsFail('FERRY_JS_SYNTAX', why);
      }
      this.#callString(live, live.freezeFn, r.value);
      this.#cleanUp(live);
      live.fns.set(key, r.value);
      for (const [old, h] of live.fns) {
        if (live.fns.size <= this.#limits.maxFunctions) break;
        live.fns.delete(old);
        h.dispose();
      }
      return { ok: true, value: r.value };
    } finally {
      this.#disarm();
    }
  }

  #compileError(live: Live, error: QuickJSHandle): Step<QuickJSHandle> {
    const d = this.#describe(live, error);
    error.dispose();
    this.#cleanUp(live);
    if (this.#interrupted) return jsFail('FERRY_JS_TIMEOUT', 'compiling ran past the deadline');
    const code = engineCode(d);
    if (code !== undefined) return this.#limitHit(code, 'compiling the source');
    if (d?.name === 'SyntaxError') {
      const [line, col] = (d.where === '' ? '1:1' : d.where).split(':').map(Number) as [number, number];
      return jsFail('FERRY_JS_SYNTAX', `${d.message} at ${line}:${line === 1 ? Math.max(1, col - 1) : col}`);
    }
    return jsFail('FERRY_JS_SYNTAX', `the source is not exactly one function: evaluating it threw ${d === undefined ? 'an error' : `${d.name}: ${d.message}`}`);
  }

  #call(live: Live, fn: QuickJSHandle, args: string, lim: JsCallLimits): JsResult {
    const { vm } = live;
    this.#arm(lim.timeoutMs);
    let result: JsResult;
    try {
      const text = vm.newString(args);
      const max = vm.newNumber(lim.maxResultBytes);
      const r = vm.callFunction(live.invoke, vm.undefined, fn, text, max);
      text.dispose();
      max.dispose();
      if (r.error) {
        const d = this.#interrupted ? undefined : this.#describe(live, r.error);
        r.error.dispose();
        result = this.#interrupted
          ? jsFail('FERRY_JS_TIMEOUT', `the call ran past its ${lim.timeoutMs} ms deadline`)
          : this.#limitHit(engineCode(d) ?? 'FERRY_JS_OUT_OF_MEMORY', 'the call');
      } else {
        const out = vm.getString(r.value);
        r.value.dispose();
        result = decode(out);
        if (!result.ok && result.error.code === 'FERRY_JS_OUT_OF_MEMORY') this.#drop();
      }
      if (this.#live !== live) return result;
      // Jobs the call queued (promise reactions) run now, under the same deadline; left queued they would
      // hold memory and run inside a later call.
      const jobs = live.rt.executePendingJobs(-1);
      if (jobs.error) {
        jobs.error.dispose();
        this.#drop();
      }
      this.#cleanUp(live);
    } finally {
      this.#disarm();
    }
    return result;
  }

  /** Deletes the call's new globals; a global it cannot delete costs the owner its runtime. */
  #cleanUp(live: Live): void {
    if (this.#live !== live) return;
    if (this.#callString(live, live.clean) !== 'true') this.#drop();
  }

  /** Calls a prelude helper and returns its result as a string (undefined if it threw). */
  #callString(live: Live, fn: QuickJSHandle, ...args: QuickJSHandle[]): string | undefined {
    const r = live.vm.callFunction(fn, live.vm.undefined, ...args);
    if (r.error) {
      r.error.dispose();
      return undefined;
    }
    const t = live.vm.typeof(r.value);
    const s = t === 'string' ? live.vm.getString(r.value) : t === 'boolean' ? String(live.vm.dump(r.value)) : undefined;
    r.value.dispose();
    return s;
  }

  #describe(live: Live, error: QuickJSHandle): Described | undefined {
    const s = this.#callString(live, live.describe, error);
    return s === undefined ? undefined : described(s);
  }

  /** An out-of-memory error discards the runtime (what it allocated may still be reachable). */
  #limitHit(code: JsErrorCode, what: string): JsResult & { ok: false } {
    if (code === 'FERRY_JS_OUT_OF_MEMORY') this.#drop();
    const text =
      code === 'FERRY_JS_OUT_OF_MEMORY'
        ? `${what} used more than the ${this.#limits.memoryBytes}-byte heap`
        : code === 'FERRY_JS_STACK_OVERFLOW'
          ? `${what} nested deeper than the ${this.#limits.stackBytes}-byte stack allows`
          : what;
    return jsFail(code, text);
  }

  #drop(): void {
    this.#resets++;
    this.dispose();
  }
}

/**
 * The source with the semicolons that end it blanked, when only blanks and comments follow them
 * (`function(a){ return a }; // note`). Used only after the source as given failed to compile; what
 * compiles is still checked against the source as given.
 */
export function withoutTrailingSemicolons(source: string): string {
  let s = source;
  for (let i = s.lastIndexOf(';'); i >= 0 && INERT.test(s.slice(i)); i = s.lastIndexOf(';')) s = `${s.slice(0, i)} ${s.slice(i + 1)}`;
  return s;
}

interface Described {
  readonly name: string;
  readonly message: string;
  readonly where: string;
}

function described(s: string): Described {
  const [name = '', message = '', where = ''] = s.split('\n');
  return { name, message, where };
}

/** The limit an engine-raised error stands for, if it is one. */
function engineCode(d: Described | undefined): JsErrorCode | undefined {
  if (d?.name !== 'InternalError') return undefined;
  if (d.message === 'out of memory') return 'FERRY_JS_OUT_OF_MEMORY';
  if (d.message === 'stack overflow') return 'FERRY_JS_STACK_OVERFLOW';
  return undefined;
}

/** The host's reading of what `invoke` answered. */
function decode(out: string): JsResult {
  const body = out.slice(1);
  switch (out[0]) {
    case 'J':
      try {
        return { ok: true, value: JSON.parse(body) };
      } catch {
        return jsFail('FERRY_JS_BAD_RESULT', 'the result is not JSON');
      }
    case 'E': {
      const d = described(body);
      const code = engineCode(d);
      if (code === 'FERRY_JS_OUT_OF_MEMORY') return jsFail(code, `the call used more than its heap (caught: ${d.message})`);
      if (code === 'FERRY_JS_STACK_OVERFLOW') return jsFail(code, 'the call nested deeper than the stack limit allows');
      return jsFail('FERRY_JS_EXCEPTION', d.name === 'Thrown' ? `uncaught ${d.message}` : `${d.name}: ${d.message}`);
    }
    case 'B':
      return jsFail('FERRY_JS_BAD_RESULT', body);
    default:
      return jsFail('FERRY_JS_BAD_RESULT', 'the sandbox answered nothing readable');
  }
}
