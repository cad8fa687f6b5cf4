import { readFileSync, readdirSync } from 'node:fs';
import type { Result } from '@ferry/base';
import { describe, expect, it } from 'vitest';
import { ComposeEngine, type ComposeError, type InputDocument, type JsRunner, MemoryStore, composeError } from './index.ts';

const dir = new URL('../fixtures/', import.meta.url);
const load = (f: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as Record<string, unknown>;

type Fake = (args: readonly InputDocument[], globals: Readonly<Record<string, InputDocument>>) => unknown;
const cv = (d: InputDocument, ch = '$'): unknown => d?.channels[ch]?.['current-value'] ?? null;

/** What the 0.2.0 fixture functions compute, written out by hand: the tests need no JavaScript engine. */
export const FAKE_FUNCTIONS: Record<string, Fake> = {
  "function(A,group){return A.channels.$['current-value']+group.channels.$['current-value']}": ([a, g]) => (cv(a!) as number) + (cv(g!) as number),
  "function(A){return A.channels.$['current-value']==-1?null:false;}": ([a]) => (cv(a!) === -1 ? null : false),
  "function(C){var result=[];C.channels.$['current-value'].forEach(function(entry){result.push(entry > 10)});return result}": ([c]) =>
    (cv(c!) as number[]).map((e) => e > 10),
  "function(A){return B.channels.$['current-value']}": (_args, g) => cv(g['B'] ?? null),
  'function(A){return $input == A}': ([a], g) => JSON.stringify(g['$input']) === JSON.stringify(a),
};

/** A JsRunner that knows the fixture functions only; anything else fails as a runner error. */
export const fakeJs: JsRunner = {
  run(source, args, globals): Result<unknown, ComposeError> {
    const f = FAKE_FUNCTIONS[source];
    return f === undefined ? { ok: false, error: composeError('FERRY_COMPOSE_RUNNER', 'unknown function') } : { ok: true, value: f(args, globals) };
  },
};

const engine = (): ComposeEngine => new ComposeEngine({ store: new MemoryStore(), clock: { now: () => 0 }, js: fakeJs });
const su = (v: unknown, lastUpdate: number, ch = 'a') => ({ channels: { [ch]: { 'current-value': v } }, lastUpdate });

describe('ServIoTicy fixtures, unchanged', () => {
  for (const version of ['0.1.0', '0.2.0']) {
    it(`every ${version} document installs`, async () => {
      const e = engine();
      const files = readdirSync(new URL(`${version}/`, dir)).sort((a, b) =>
        a.startsWith('additional') ? -1 : b.startsWith('additional') ? 1 : a.localeCompare(b),
      );
      expect(files.length).toBeGreaterThanOrEqual(6);
      for (const f of files) {
        const doc = load(`${version}/${f}`);
        const id = typeof doc['id'] === 'string' ? doc['id'] : f.replace('.json', '');
        const r = await e.create(id, 'alice', doc);
        expect(r.ok ? 'ok' : r.error.message, f).toBe('ok');
      }
    });
  }

  it('0.1.0 so-basic: B = A + the group member', async () => {
    const e = engine();
    await e.create('additional_so', 'alice', load('0.1.0/additional-so.json'));
    await e.create('so', 'alice', load('0.1.0/so-basic.json'));
    await e.push('additional_so', 'some_stream', su(1, 1));
    const r = await e.push('so', 'A', su(2, 2));
    expect(r.ok && r.value.outputs.map((o) => [o.stream, o.value.channels['a'], o.value.lastUpdate])).toEqual([
      ['A', 2, 2],
      ['B', 3, 2],
    ]);
  });

  it('0.1.0 pre-filter and post-filter drop -1', async () => {
    const e = engine();
    await e.create('pre', 'alice', load('0.1.0/so-prefilter.json'));
    await e.create('post', 'alice', load('0.1.0/so-postfilter.json'));
    for (const so of ['pre', 'post']) {
      await e.push(so, 'A', su(-1, 1));
      expect(await e.latest(so, 'B')).toBeUndefined();
      await e.push(so, 'A', su(5, 2));
      expect((await e.latest(so, 'B'))?.channels['a']).toBe(5);
      expect(e.counters(so, 'B')).toMatchObject({ computed: 1, filtered: 1 });
    }
    expect(e.explain('pre', 'B', 2).map((x) => x.outcome)).toEqual(['pre-filter', 'emitted']);
    expect(e.explain('post', 'B', 2).map((x) => x.outcome)).toEqual(['post-filter', 'emitted']);
  });

  it('0.1.0 self stream: B reads its own previous output, which never triggers it', async () => {
    const e = engine();
    await e.create('s', 'alice', load('0.1.0/so-lunull.json'));
    await e.push('s', 'A', su(1, 1));
    expect((await e.latest('s', 'B'))?.channels['a']).toBe(true);
    await e.push('s', 'A', su(2, 2));
    expect((await e.latest('s', 'B'))?.channels['a']).toBe(false);
    expect(e.topology.nodes.get('s/B')?.deps).toEqual(['s/A']);
  });

  it('0.1.0 descriptor: strings, geo_point, {$.lastUpdate} filters', async () => {
    const e = engine();
    await e.create('gh3', 'alice', load('0.1.0/so-descriptor.json'));
    await e.push('gh3', 'air', {
      channels: { temperature: { 'current-value': 31 }, humidity: { 'current-value': 40 }, location: { 'current-value': '41.39,2.11' } },
      lastUpdate: 10,
    });
    expect((await e.latest('gh3', 'comfort'))?.channels).toEqual({ heat: 33, label: 'hot' });
  });

  it('0.2.0 functions run through the JsRunner port: group, null, arrays, self, $input', async () => {
    const e = engine();
    for (const f of ['additional-so', 'so-basic', 'so-filter', 'so-array', 'so-self', 'so-input']) {
      const doc = load(`0.2.0/${f}.json`);
      expect((await e.create(doc['id'] as string, 'alice', doc)).ok).toBe(true);
    }
    await e.push('additional_so', 'some_stream', su(1, 1, '$'));
    await e.push('so', 'A', su(2, 2, '$'));
    expect((await e.latest('so', 'B'))?.channels['$']).toBe(3);
    await e.push('so_filter', 'A', su(-1, 1, '$'));
    expect(await e.latest('so_filter', 'B')).toBeUndefined();
    expect(e.counters('so_filter', 'B')?.nulls).toBe(1);
    await e.push('so_filter', 'A', su(3, 2, '$'));
    expect((await e.latest('so_filter', 'B'))?.channels['$']).toBe(false);
    await e.push('so_array', 'C', su([5, 20], 1, '$'));
    expect((await e.latest('so_array', 'B'))?.channels['$']).toEqual([false, true]);
    await e.push('so_self', 'A', su(7, 1, '$'));
    expect(await e.latest('so_self', 'B')).toBeUndefined();
    await e.push('so_input', 'A', su(7, 1, '$'));
    expect((await e.latest('so_input', 'B'))?.channels['$']).toBe(true);
  });

  it('a 0.2.0 document needs a JavaScript runner', async () => {
    const e = new ComposeEngine({ store: new MemoryStore(), clock: { now: () => 0 } });
    await e.create('additional_so', 'alice', load('0.2.0/additional-so.json'));
    const r = await e.create('so', 'alice', load('0.2.0/so-basic.json'));
    expect(!r.ok && r.error.code).toBe('FERRY_COMPOSE_NO_RUNNER');
  });

  it('a JsRunner with check refuses a function that does not parse, naming stream and channel', async () => {
    const e = new ComposeEngine({
      store: new MemoryStore(),
      clock: { now: () => 0 },
      js: {
        ...fakeJs,
        check: (src) =>
          src.includes('return;;}') ? { ok: false, error: composeError('FERRY_COMPOSE_RUNNER', 'Unexpected token') } : { ok: true, value: undefined },
      },
    });
    const r = await e.create('so', 'alice', {
      version: '0.2.0',
      streams: { A: { channels: { $: { type: 'number' } } }, B: { channels: { $: { type: 'number', 'current-value': 'function(A){return;;}' } } } },
    });
    expect(!r.ok && [r.error.code, r.error.where]).toEqual(['FERRY_COMPOSE_SYNTAX', { so: 'so', stream: 'B', channel: '$' }]);
  });
});
