/**
 * ServIoTicy 0.2.0 composite functions, written as its documents hold them (`var`, loops, callbacks,
 * Math, string operations, sloppy-mode habits), run unchanged: the sandbox must give what a plain
 * JavaScript engine gives for them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Json, JsSandboxPool } from './index.ts';

let pool: JsSandboxPool;
beforeAll(async () => {
  pool = await JsSandboxPool.create();
});
afterAll(() => pool.close());

/** A sensor update as ServIoTicy stores it: channels with their current value, and the update's time. */
const su = (channels: Record<string, Json>, lastUpdate = 1_700_000_000_000): Json => ({
  channels: Object.fromEntries(Object.entries(channels).map(([k, v]) => [k, { 'current-value': v }])),
  lastUpdate,
});

const value = (source: string, args: readonly Json[]): Json => {
  const r = pool.run('owner-1', source, args);
  if (!r.ok) throw r.error;
  return r.value;
};

/** The same function in the host's engine, as the reference. */
const reference = (source: string, args: readonly Json[]): unknown => indirectEval(`(${source})`)(...structuredClone(args));

// biome-ignore lint/security/noGlobalEval: the test's reference engine runs the test's own fixed sources
const indirectEval = globalThis.eval;

const CASES: readonly { name: string; source: string; args: readonly Json[] }[] = [
  {
    name: 'the sum of an array channel with forEach',
    source: "function(A, group){ var s = 0; A.channels.a['current-value'].forEach(function(v){ s += v; }); return s; }",
    args: [su({ a: [1, 2, 3.5] }), su({ a: [9] })],
  },
  {
    name: 'two streams added, as the 0.1.0 template {$A...} + {$group...} would',
    source: "function(A, group) { return A.channels.a['current-value'] + group.channels.a['current-value']; }",
    args: [su({ a: 20.5 }), su({ a: 1.25 })],
  },
  {
    name: 'an average over a window with a for loop and toFixed',
    source: `function(polar) {
      var values = polar.channels.temperature['current-value'];
      var total = 0;
      for (var i = 0; i < values.length; i++) { total = total + values[i]; }
      return parseFloat((total / values.length).toFixed(2));
    }`,
    args: [su({ temperature: [20.1, 21.7, 19.9, 22.3] })],
  },
  {
    name: 'map, filter and reduce callbacks, Math.max over the result',
    source: `function(A) {
      var celsius = A.channels.t['current-value'].map(function (f) { return (f - 32) * 5 / 9; });
      var warm = celsius.filter(function (c) { return c > 20; });
      return { warm: warm.length, max: Math.round(Math.max.apply(null, celsius) * 10) / 10,
               sum: celsius.reduce(function (a, b) { return a + b; }, 0) > 0 };
    }`,
    args: [su({ t: [50, 68, 77, 95] })],
  },
  {
    name: 'string operations: a location label, upper-cased and split',
    source: `function(gps) {
      var c = gps.channels;
      var label = c.city['current-value'].trim().toUpperCase() + ':' + c.lat['current-value'].toFixed(3) + ',' + c.lon['current-value'].toFixed(3);
      return label.split(':').concat([label.indexOf('BCN') >= 0 ? 'home' : 'away']).join('|');
    }`,
    args: [su({ city: '  bcn ', lat: 41.38879, lon: 2.15899 })],
  },
  {
    name: 'a filter: true only when the update is newer than the last output',
    source: 'function(A, self) { return A.lastUpdate > self.lastUpdate; }',
    args: [su({ a: 1 }, 2000), su({ a: 1 }, 1000)],
  },
  {
    name: 'null to emit nothing below a threshold',
    source: "function(A) { if (A.channels.a['current-value'] < 10) return null; return A.channels.a['current-value']; }",
    args: [su({ a: 3 })],
  },
  {
    name: 'sloppy-mode habits: an undeclared loop variable and accumulator, this, arguments',
    source: `function(A) {
      total = 0;
      for (i = 0; i < arguments.length; i++) total += arguments[i].channels.n['current-value'];
      return [total, typeof this, arguments.length];
    }`,
    args: [su({ n: 1 }), su({ n: 2 }), su({ n: 3 })],
  },
  {
    name: 'a declaration with a name, recursion, a switch, an object literal built key by key',
    source: `function fib(A) {
      function f(n) { return n < 2 ? n : f(n - 1) + f(n - 2); }
      var out = {};
      var keys = Object.keys(A.channels).sort();
      for (var k = 0; k < keys.length; k++) {
        switch (typeof A.channels[keys[k]]['current-value']) {
          case 'number': out[keys[k]] = f(A.channels[keys[k]]['current-value']); break;
          case 'string': out[keys[k]] = A.channels[keys[k]]['current-value'].length; break;
          default: out[keys[k]] = null;
        }
      }
      return out;
    }`,
    args: [su({ a: 10, b: 'hello', c: true })],
  },
  {
    name: 'booleans, a regular expression and JSON inside the function',
    source: `function(A) {
      var s = A.channels.raw['current-value'];
      var m = /^(\\d+)C;(\\d+)%$/.exec(s);
      return m === null ? false : JSON.parse('{"t":' + m[1] + ',"h":' + m[2] + '}');
    }`,
    args: [su({ raw: '23C;45%' })],
  },
  {
    name: 'dates from the update time',
    source: 'function(A) { var d = new Date(A.lastUpdate); return [d.getUTCFullYear(), d.getUTCHours(), Date.UTC(2020, 0, 1)]; }',
    args: [su({ a: 0 }, Date.UTC(2024, 5, 1, 13))],
  },
  {
    name: 'an arrow function and a function that catches its own error',
    source: '(A) => { try { null.x; } catch (e) { return [e instanceof TypeError, A.channels.a["current-value"] ** 2]; } }',
    args: [su({ a: 12 })],
  },
];

describe('ServIoTicy 0.2.0 functions', () => {
  for (const c of CASES) {
    it(c.name, () => {
      expect(value(c.source, c.args)).toEqual(reference(c.source, c.args));
    });
  }

  it('compiles a function once and serves it from the cache', () => {
    const src = 'function(A){ return A + 1 }';
    expect(value(src, [1])).toBe(2);
    const before = pool.stats().functions;
    for (let i = 0; i < 100; i++) expect(value(src, [i])).toBe(i + 1);
    expect(pool.stats().functions).toBe(before);
  });

  it('gives each call a deep copy of its arguments: the caller sees no change, the next call a fresh copy', () => {
    const arg = { list: [1, 2, 3] };
    const src = 'function(o){ o.list.push(4); o.added = true; return o.list.length }';
    expect(value(src, [arg])).toBe(4);
    expect(value(src, [arg])).toBe(4);
    expect(arg).toEqual({ list: [1, 2, 3] });
  });

  it('deletes globals a call made, so the next call does not see them', () => {
    expect(value('function(){ leaked = 41; return typeof leaked }', [])).toBe('number');
    expect(value('function(){ return typeof leaked }', [])).toBe('undefined');
  });

  it('keeps the standard objects intact against a call that changes them', () => {
    expect(value('function(){ Array.prototype.map = null; Object.prototype.x = 1; Math.max = null; JSON = null; return 1 }', [])).toBe(1);
    expect(value('function(){ return [[1,2].map(function(v){ return v * 2 }), typeof ({}).x, Math.max(1, 2), typeof JSON] }', [])).toEqual([
      [2, 4],
      'undefined',
      2,
      'object',
    ]);
  });

  it('lets a function override toString, valueOf, name and message on its own objects (frozen prototypes notwithstanding)', () => {
    const src = `function(){
      var o = {}; o.toString = function(){ return 'O' }; o.valueOf = function(){ return 7 };
      var e = new Error('m'); e.name = 'Custom'; e.message = 'changed';
      return [String(o), o + 1, e.name, e.message, String(e), Object.prototype.toString.call([])];
    }`;
    expect(value(src, [])).toEqual(reference(src, []));
  });
});

describe('the pool', () => {
  it('keeps at most maxOwners runtimes, frees a dropped owner, and answers FERRY_JS_UNAVAILABLE once closed', async () => {
    const small = await JsSandboxPool.create({ maxOwners: 2 });
    for (const o of ['a', 'b', 'c']) expect(small.run(o, 'function(x){ return x }', [o])).toEqual({ ok: true, value: o });
    expect(small.stats().owners).toBe(2);
    small.drop('c');
    expect(small.stats().owners).toBe(1);
    expect(small.run('a', 'function(x){ return x }', [1])).toEqual({ ok: true, value: 1 });
    small.close();
    const r = small.run('a', 'function(x){ return x }', [1]);
    expect(r.ok || r.error.code).toBe('FERRY_JS_UNAVAILABLE');
  });
});
