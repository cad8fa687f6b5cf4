/**
 * Properties: any source and any plain arguments give a value or a typed error, never an exception out
 * of `run`; and memory is reclaimed: owners' runtimes and compiled functions are disposed as the bounded
 * caches turn over, so 10,000 calls over many owners and sources leave the engine's memory flat.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JS_ERRORS, JsError, JsSandboxPool } from './index.ts';

let pool: JsSandboxPool;
beforeAll(async () => {
  pool = await JsSandboxPool.create({ limits: { timeoutMs: 20 }, maxOwners: 4 });
});
afterAll(() => pool.close());

const TOKENS = [
  'function',
  '(',
  ')',
  '{',
  '}',
  '[',
  ']',
  'return',
  'var',
  'x',
  'A',
  '=',
  '=>',
  ',',
  ';',
  '.',
  '1',
  '"s"',
  "'",
  '"',
  '`',
  '/*',
  '*/',
  '//',
  '\n',
  'while(1)',
  'for(;;)',
  'this',
  'globalThis',
  'constructor',
  '__proto__',
  'eval',
  'Function',
  'throw',
  'new',
  'Proxy',
  'null',
  'undefined',
  'async',
  'yield',
  '*',
  '+',
  'channels',
  "['current-value']",
];
/** Sources near JavaScript: token soup with a function head, so some compile and run. */
const sourceArb = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.array(fc.constantFrom(...TOKENS), { maxLength: 40 }).map((t) => t.join(' ')),
  fc.array(fc.constantFrom(...TOKENS), { maxLength: 30 }).map((t) => `function(A, group){ ${t.join(' ')} }`),
);

describe('run', () => {
  it('never throws: any source, any plain arguments, gives a value or a FERRY_JS_* error', () => {
    fc.assert(
      fc.property(sourceArb, fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 3 }), fc.constantFrom('o1', 'o2', 'o3'), (source, args, owner) => {
        const r = pool.run(owner, source, args);
        if (!r.ok) {
          expect(r.error).toBeInstanceOf(JsError);
          expect(Object.keys(JS_ERRORS)).toContain(r.error.code);
        }
      }),
      { numRuns: 400 },
    );
    expect(pool.run('o1', 'function(a){ return a }', [{ still: 'serving' }])).toEqual({ ok: true, value: { still: 'serving' } });
  });

  it('round-trips any JSON value through a function unchanged', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
        const r = pool.run('o1', 'function(v){ return v }', [v]);
        // JSON has no -0: the sandbox writes it as 0, as JSON.stringify does.
        expect(r).toEqual({ ok: true, value: JSON.parse(JSON.stringify(v)) });
      }),
      { numRuns: 300 },
    );
  });
});

describe('memory', () => {
  it('is reclaimed: 10,000 calls over 40 owners (4 kept) and 200 sources (64 kept per owner) keep the caches bounded and the engine memory flat', () => {
    const call = (i: number): void => {
      const owner = `owner-${Math.floor(i / 25) % 40}`;
      const source = `function(A){ var s = ${i % 200}; A.forEach(function(v){ s += v; }); return s; }`;
      const r = pool.run(owner, source, [[1, 2, 3]]);
      expect(r).toEqual({ ok: true, value: (i % 200) + 6 });
    };
    for (let i = 0; i < 1000; i++) call(i);
    const warm = pool.stats();
    for (let i = 1000; i < 10_000; i++) call(i);
    const after = pool.stats();
    expect(after.owners).toBeLessThanOrEqual(4);
    expect(after.functions).toBeLessThanOrEqual(4 * pool.limits.maxFunctions);
    expect(after.faults).toBe(0);
    // 360 runtimes were created and disposed after the warm-up (the owner changes every 25 calls) and
    // compiled functions turn over at nearly every call: a leak of either would grow the linear memory.
    expect(after.wasmMemoryBytes).toBeGreaterThan(0);
    expect(after.wasmMemoryBytes - warm.wasmMemoryBytes).toBeLessThanOrEqual(8 * 1024 * 1024);
  });
});
