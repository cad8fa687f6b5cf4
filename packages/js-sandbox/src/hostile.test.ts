/**
 * Hostile functions: each gets its typed error (or a harmless answer, for attempts to reach the host),
 * while a second owner's calls keep giving the right answer and the attacker's own sandbox keeps serving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JsErrorCode, JsSandboxPool } from './index.ts';

let pool: JsSandboxPool;
beforeAll(async () => {
  pool = await JsSandboxPool.create({ limits: { timeoutMs: 50 } });
});
afterAll(() => pool.close());

const BYSTANDER = "function(A, group){ var s = 0; A.channels.a['current-value'].forEach(function(v){ s += v; }); return s; }";
const bystanderArgs = [{ channels: { a: { 'current-value': [1, 2, 3] } }, lastUpdate: 1 }, null];

/** The bystander's call answers 6, and the attacker's own next call works. */
function othersUnharmed(): void {
  const b = pool.run('alice', BYSTANDER, bystanderArgs);
  expect(b.ok && b.value).toBe(6);
  const m = pool.run('mallory', 'function(x){ return x * 2 }', [21]);
  expect(m.ok && m.value).toBe(42);
}

const code = (owner: string, source: string, args: readonly unknown[] = [], limits?: { timeoutMs?: number }): JsErrorCode | 'ok' => {
  const r = pool.run(owner, source, args, limits);
  return r.ok ? 'ok' : r.error.code;
};

const ATTACKS: readonly { name: string; source: string; want: JsErrorCode; timeoutMs?: number }[] = [
  { name: 'an endless loop', source: 'function(){ while(true){} }', want: 'FERRY_JS_TIMEOUT' },
  { name: 'an endless loop that catches the interrupt', source: 'function(){ for(;;){ try { for(;;){} } catch (e) {} } }', want: 'FERRY_JS_TIMEOUT' },
  { name: 'an endless loop in a finally', source: 'function(){ try { return 1 } finally { for(;;){} } }', want: 'FERRY_JS_TIMEOUT' },
  { name: 'catastrophic regular-expression backtracking', source: 'function(){ return /(a+)+$/.test("a".repeat(40) + "b") }', want: 'FERRY_JS_TIMEOUT' },
  { name: 'a recursion bomb', source: 'function f(){ return f() + 1 }', want: 'FERRY_JS_STACK_OVERFLOW' },
  { name: 'a recursion bomb through callbacks', source: 'function f(a){ return [a].map(f) }', want: 'FERRY_JS_STACK_OVERFLOW' },
  { name: 'a recursion bomb that re-enters from its catch', source: 'function f(){ try { f() } catch (e) { f() } }', want: 'FERRY_JS_TIMEOUT' },
  { name: 'deeply nested source text given to eval', source: 'function(){ return eval("[".repeat(100000)) }', want: 'FERRY_JS_EXCEPTION' },
  { name: 'a giant array', source: 'function(){ return new Array(1e8).fill(0).length }', want: 'FERRY_JS_OUT_OF_MEMORY' },
  {
    name: 'an array grown without end',
    source: 'function(){ var a = []; for(;;) a.push([a.length, "xxxxxxxxxxxxxxxx" + a.length]) }',
    want: 'FERRY_JS_OUT_OF_MEMORY',
    timeoutMs: 10_000,
  },
  { name: 'a giant string', source: 'function(){ return "x".repeat(1e8).length }', want: 'FERRY_JS_OUT_OF_MEMORY' },
  {
    name: 'a string doubled without end (past the longest string the engine makes)',
    source: 'function(){ var s = "x"; for(;;) s += s; }',
    want: 'FERRY_JS_EXCEPTION',
  },
  // Building 2 MB takes real time on a loaded machine: this case is about the size check, not the deadline.
  {
    name: 'a result longer than maxResultBytes',
    source: 'function(){ return new Array(2000).fill("x".repeat(1000)) }',
    want: 'FERRY_JS_BAD_RESULT',
    timeoutMs: 5000,
  },
  { name: 'a cyclic result', source: 'function(){ var o = {}; o.o = o; return o }', want: 'FERRY_JS_BAD_RESULT' },
  { name: 'a result with a getter that loops', source: 'function(){ return { get x(){ for(;;){} } } }', want: 'FERRY_JS_BAD_RESULT' },
  { name: 'a proxy result whose traps loop', source: 'function(){ return new Proxy({}, { ownKeys: function(){ for(;;){} } }) }', want: 'FERRY_JS_TIMEOUT' },
  { name: 'a thrown object whose toString loops', source: 'function(){ throw { toString: function(){ for(;;){} } } }', want: 'FERRY_JS_TIMEOUT' },
  { name: 'the global object as the result', source: 'function(){ return (function(){}).constructor("return this")() }', want: 'FERRY_JS_BAD_RESULT' },
  { name: 'a promise (an async function)', source: 'async function(){ return 1 }', want: 'FERRY_JS_BAD_RESULT' },
  { name: 'a dynamic import', source: 'function(){ return import("node:fs") }', want: 'FERRY_JS_BAD_RESULT' },
  { name: 'changing a frozen prototype in strict mode', source: 'function(){ "use strict"; Array.prototype.push = null }', want: 'FERRY_JS_EXCEPTION' },
  { name: "replacing Object.prototype's prototype", source: 'function(){ Object.setPrototypeOf(Object.prototype, { evil: 1 }) }', want: 'FERRY_JS_EXCEPTION' },
  { name: 'code around the function', source: 'globalThis.x = 1, function(){ return 1 }', want: 'FERRY_JS_SYNTAX' },
  {
    name: 'an immediately invoked function returning a closure',
    source: '(function(){ var n = 0; return function(){ return ++n } })()',
    want: 'FERRY_JS_SYNTAX',
  },
  { name: 'a source that is not a function', source: 'Math.max', want: 'FERRY_JS_SYNTAX' },
  { name: 'an endless loop while compiling', source: 'function(){ return 1 }, (function(){ for(;;){} })()', want: 'FERRY_JS_TIMEOUT' },
];

describe('hostile functions', () => {
  for (const a of ATTACKS) {
    it(`${a.name}: ${a.want}, and nobody else notices`, () => {
      // A FERRY_JS_TIMEOUT answer is the interrupt deadline firing; without it the call would never return.
      expect(code('mallory', a.source, [], a.timeoutMs === undefined ? undefined : { timeoutMs: a.timeoutMs })).toBe(a.want);
      othersUnharmed();
    });
  }

  it('finds no host object: no process, require, console, timers, modules, fetch or WebAssembly, from any route', () => {
    const names = [
      'process',
      'require',
      'module',
      'exports',
      'console',
      'setTimeout',
      'setInterval',
      'queueMicrotask',
      'fetch',
      'WebAssembly',
      'std',
      'os',
      'Deno',
      'Bun',
      'global',
      'WeakRef',
      'FinalizationRegistry',
    ];
    const src = `function(names){
      var g1 = globalThis, g2 = (function(){ return this })(), g3 = Function('return this')(), g4 = (0, eval)('this');
      return names.map(function(n){ return [typeof g1[n], typeof g2[n], typeof g3[n], typeof g4[n], eval('typeof ' + n)].join() });
    }`;
    const r = pool.run('mallory', src, [names]);
    expect(r.ok && r.value).toEqual(names.map(() => 'undefined,undefined,undefined,undefined,undefined'));
    const globals = pool.run('mallory', 'function(){ return Reflect.ownKeys(globalThis).map(String).sort() }', []);
    expect(globals.ok).toBe(true);
    // The host's own globals, plus the standard ones Node 20 does not have yet.
    const standard = new Set([...Object.getOwnPropertyNames(globalThis), 'InternalError', 'Iterator', 'Float16Array', 'Symbol(Symbol.toStringTag)']);
    expect((globals.ok ? (globals.value as string[]) : []).filter((n) => !standard.has(n))).toEqual([]);
    othersUnharmed();
  });

  it('keeps no state between calls: globals, function properties and frozen globals all start afresh', () => {
    // Rhino would count 1, 2, 3: here the function object is frozen, so the write is ignored (sloppy mode).
    const counter = 'function f(){ f.n = (f.n || 0) + 1; counter = (typeof counter === "number" ? counter : 0) + 1; return [f.n || 0, counter] }';
    for (let i = 0; i < 3; i++) expect(pool.run('mallory', counter, [])).toEqual({ ok: true, value: [0, 1] });
    expect(code('mallory', 'function(){ Object.defineProperty(globalThis, "pinned", { value: 1 }); return 1 }')).toBe('ok');
    expect(pool.run('mallory', 'function(){ return typeof pinned }', [])).toEqual({ ok: true, value: 'undefined' });
    expect(code('mallory', 'function(){ Object.preventExtensions(globalThis); return 1 }')).toBe('ok');
    expect(pool.run('mallory', 'function(){ implicit = 2; return implicit }', [])).toEqual({ ok: true, value: 2 });
    othersUnharmed();
  });

  it('runs promise jobs a call queued under its deadline, and a job that loops costs only its owner', () => {
    expect(pool.run('mallory', 'function(){ Promise.resolve().then(function(){ for(;;){} }); return 4 }', [])).toEqual({ ok: true, value: 4 });
    othersUnharmed();
  });

  it('refuses arguments that are not plain data, and sources and arguments that are too large', () => {
    const fn = 'function(a){ return 1 }';
    const holey: unknown[] = [];
    holey[2] = 3;
    for (const bad of [undefined, () => 1, Number.NaN, new Date(0), new Map(), Symbol('s'), 10n, holey])
      expect(code('mallory', fn, [bad]), String(bad)).toBe('FERRY_JS_ARGS_INVALID');
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(code('mallory', fn, [cyclic])).toBe('FERRY_JS_ARGS_INVALID');
    expect(code('mallory', fn, ['x'.repeat(2 * 1024 * 1024)])).toBe('FERRY_JS_ARGS_TOO_LARGE');
    expect(code('mallory', `function(){ return 1 /*${'x'.repeat(70 * 1024)}*/ }`)).toBe('FERRY_JS_SOURCE_TOO_LARGE');
    expect(code('mallory', 42 as unknown as string)).toBe('FERRY_JS_SYNTAX');
    othersUnharmed();
  });

  it('takes a __proto__ key in the arguments as data, not as a prototype', () => {
    const args = [JSON.parse('{"__proto__": {"polluted": 1}, "a": 2}')];
    expect(pool.run('mallory', 'function(o){ return [o.a, o.polluted === undefined, ({}).polluted === undefined, Object.keys(o).sort()] }', args)).toEqual({
      ok: true,
      value: [2, true, true, ['__proto__', 'a']],
    });
  });

  it('reports a syntax error with its position and a thrown error with its message, never a stack', () => {
    const s = pool.run('mallory', 'function(A){\n  return A +;\n}', [1]);
    expect(s.ok || [s.error.code, s.error.message]).toEqual(['FERRY_JS_SYNTAX', expect.stringMatching(/at 2:\d+$/)]);
    const e = pool.run('mallory', 'function(){ (function inner(){ throw new RangeError("too far") })() }', []);
    expect(e.ok || e.error.message).toBe('FERRY_JS_EXCEPTION: RangeError: too far');
  });

  it('survives the host stack running out inside the engine: the module is replaced, everyone continues', async () => {
    // Calls from ever deeper in the host's stack until the engine runs out of it before its own limit.
    const src = 'function(){ return eval("[".repeat(30000)) }';
    const at = (depth: number): string => (depth === 0 ? code('mallory', src) : at(depth - 1));
    const results: string[] = [];
    for (let depth = 100; depth < 1_000_000 && !results.includes('FERRY_JS_UNAVAILABLE'); depth = Math.ceil(depth * 1.05)) {
      try {
        results.push(at(depth));
      } catch {
        break; // the host's stack ran out before the call reached the engine
      }
    }
    expect(results).toContain('FERRY_JS_UNAVAILABLE');
    expect(pool.stats().faults).toBeGreaterThanOrEqual(1);
    await pool.ready();
    othersUnharmed();
  });
});
