/**
 * ServIoTicy 0.2.0 functions, unchanged, through the composite-stream engine's JavaScript port on the real
 * QuickJS sandbox: the fixture functions compute what ServIoTicy's would, free variables included, and an
 * endless loop costs its stream a counted runner error while the engine goes on serving.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComposeEngine, type InputDocument, MemoryStore } from '@ferry/compose';
import { JsSandboxPool } from '@ferry/js-sandbox';
import { sandboxJsRunner, wrapped } from './js-runner.ts';

const fixture = (f: string): unknown => JSON.parse(readFileSync(new URL(`../../../packages/compose/fixtures/0.2.0/${f}`, import.meta.url), 'utf8'));
const doc = (v: unknown, lastUpdate = 1): InputDocument => ({ channels: { $: { 'current-value': v as never } }, lastUpdate });
const ctx = { owner: 'alice', so: 'so', stream: 'B' };

let pool: JsSandboxPool;
beforeAll(async () => {
  pool = await JsSandboxPool.create();
});
afterAll(() => pool.close());

describe('0.2.0 functions in the sandbox', () => {
  it('compute what ServIoTicy computes, reading arguments and free variables', () => {
    const js = sandboxJsRunner(pool);
    const run = (source: string, args: InputDocument[], globals: Record<string, InputDocument> = {}) => {
      const r = js.run(source, args, globals, ctx) as { ok: boolean; value?: unknown; error?: { message: string } };
      return r.ok ? r.value : r.error?.message;
    };
    expect(run("function(A,group){return A.channels.$['current-value']+group.channels.$['current-value']}", [doc(2), doc(40)])).toBe(42);
    expect(run("function(A){return A.channels.$['current-value']==-1?null:false;}", [doc(-1)])).toBe(null);
    expect(
      run("function(C){var result=[];C.channels.$['current-value'].forEach(function(entry){result.push(entry > 10)});return result}", [doc([5, 11, 20])]),
    ).toEqual([false, true, true]);
    expect(run("function(A){return B.channels.$['current-value']}", [doc(1)], { B: doc(7), $input: doc(1) })).toBe(7);
    expect(run('function(A){return $input.lastUpdate == A.lastUpdate}', [doc(1, 5)], { $input: doc(1, 5) })).toBe(true);
    // A trailing semicolon and a line comment, as documents have them.
    expect(run("function(A){ return A.channels.$['current-value'] * 2 }; // doubled", [doc(4)])).toBe(8);
    // A free variable whose name is not an identifier is not declared; the function still runs.
    expect(wrapped('function(A){return 1}', ['$input'])).toContain('var $input = __ferry_globals["$input"];');
  });

  it('run a 0.2.0 document through the engine; an endless loop is a counted runner error, and the engine goes on', async () => {
    const e = new ComposeEngine({ store: new MemoryStore(), clock: { now: () => 0 }, js: sandboxJsRunner(pool) });
    expect((await e.create('additional_so', 'alice', fixture('additional-so.json'))).ok).toBe(true);
    expect((await e.create('so', 'alice', fixture('so-basic.json'))).ok).toBe(true);
    await e.push('additional_so', 'some_stream', { channels: { $: { 'current-value': 1 } }, lastUpdate: 1 });
    const r = await e.push('so', 'A', { channels: { $: { 'current-value': 2 } }, lastUpdate: 2 });
    expect(r.ok && r.value.outputs.map((o) => [o.stream, o.value.channels['$']])).toEqual([
      ['A', 2],
      ['B', 3],
    ]);
    const loop = {
      streams: {
        A: { channels: { $: { type: 'number' } } },
        L: { channels: { $: { 'current-value': 'function(A){ while (true) {} }', type: 'number' } } },
      },
    };
    expect((await e.create('looper', 'mallory', loop)).ok).toBe(true);
    await e.push('looper', 'A', { channels: { $: { 'current-value': 1 } }, lastUpdate: 1 });
    expect(e.counters('looper', 'L')?.errors).toBe(1);
    const again = await e.push('so', 'A', { channels: { $: { 'current-value': 5 } }, lastUpdate: 3 });
    expect(again.ok && again.value.outputs.find((o) => o.stream === 'B')?.value.channels['$']).toBe(6);
  });
});
