import { describe, expect, it } from 'vitest';
import { ComposeEngine, type EngineOptions, MemoryStore, type Output } from './index.ts';

const simple = { channels: { a: { type: 'number' } } };
const comp = (cv: unknown, type = 'number', extra: Record<string, unknown> = {}) => ({ channels: { a: { type, 'current-value': cv } }, ...extra });
const ref = (s: string) => `{$${s}.channels.a.current-value}`;
const su = (v: unknown, lastUpdate: number) => ({ channels: { a: { 'current-value': v } }, lastUpdate });

function setup(opts: Partial<EngineOptions> = {}) {
  const outputs: Output[] = [];
  const e = new ComposeEngine({ store: new MemoryStore(), clock: { now: () => 1000 }, onOutput: (o) => outputs.push(o), ...opts });
  return { e, outputs };
}

/** S feeds A directly and D through B -> C: a diamond whose paths have different lengths. */
const DIAMOND = {
  streams: { S: simple, B: comp(`${ref('S')} * 2`), C: comp(`${ref('B')} + 1`), D: comp(`${ref('S')} + ${ref('C')}`) },
};

describe('propagation', () => {
  it('glitch-free: on a diamond, D computes once, after C, with fresh values', async () => {
    const { e, outputs } = setup();
    await e.create('d', 'alice', DIAMOND);
    await e.push('d', 'S', su(1, 1));
    await e.push('d', 'S', su(10, 2));
    expect(outputs.filter((o) => o.value.lastUpdate === 2).map((o) => [o.stream, o.value.channels['a']])).toEqual([
      ['S', 10],
      ['B', 20],
      ['C', 21],
      ['D', 31],
    ]);
    expect(e.counters('d', 'D')).toMatchObject({ computed: 2, droppedNotNewer: 0 });
  });

  it('FIFO (the baseline, as ServIoTicy dispatched): D computes on the first arrival and drops the second, keeping a stale value', async () => {
    const { e } = setup({ propagation: 'fifo' });
    await e.create('d', 'alice', DIAMOND);
    await e.push('d', 'S', su(1, 1));
    await e.push('d', 'S', su(10, 2));
    expect((await e.latest('d', 'D'))?.channels['a']).toBe(10 + 3); // S=10 with the old C=3, not 31
    expect(e.counters('d', 'D')).toMatchObject({ droppedNotNewer: 2 });
    expect(e.explain('d', 'D', 1)[0]).toMatchObject({ outcome: 'not-newer', triggers: ['d/C'], lastUpdate: 2 });
  });

  it('drops updates not newer than the last output; a redelivered update never emits twice', async () => {
    const { e, outputs } = setup();
    await e.create('d', 'alice', DIAMOND);
    await e.push('d', 'S', su(1, 5));
    const n = outputs.length;
    const again = await e.push('d', 'S', su(1, 5));
    const older = await e.push('d', 'S', su(2, 4));
    expect([again.ok && again.value.outcome, older.ok && older.value.outcome, outputs.length - n]).toEqual(['not-newer', 'not-newer', 0]);
    expect(e.counters('d', 'S')).toMatchObject({ computed: 1, droppedNotNewer: 2 });
    const ids = outputs.map((o) => o.value.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(outputs.find((o) => o.stream === 'D')?.value.id).toMatch(/^5:[0-9a-f]{16}$/);
  });

  it('reads a group member with the newest update; output lastUpdate is the newest input', async () => {
    const { e } = setup();
    await e.create('m1', 'alice', { streams: { t: simple } });
    await e.create('m2', 'alice', { streams: { t: simple } });
    await e.create('so', 'alice', { groups: { g: { soIds: ['m1', 'm2'], stream: 't' } }, streams: { X: simple, G: comp(`${ref('g')} + ${ref('X')}`) } });
    await e.push('so', 'X', su(100, 1));
    await e.push('m2', 't', su(2, 3));
    await e.push('m1', 't', su(1, 2));
    expect(await e.latest('so', 'G')).toMatchObject({ channels: { a: 102 }, lastUpdate: 3 });
    expect(e.explain('so', 'G', 1)[0]).toMatchObject({ outcome: 'not-newer', triggers: ['m1/t'] });
  });

  it('counts run-time errors per stream and never throws them', async () => {
    const { e } = setup();
    await e.create('so', 'alice', {
      streams: { A: { channels: { a: { type: 'string' } } }, B: comp(`${ref('A')}.toUpperCase()`, 'number'), C: comp(`${ref('A')} - 1`, 'number') },
    });
    const r = await e.push('so', 'A', su('x', 1));
    expect(r.ok).toBe(true);
    expect(e.counters('so', 'B')).toMatchObject({ errors: 1, computed: 0 });
    expect(e.explain('so', 'B', 1)[0]?.detail).toMatch(/FERRY_COMPOSE_RUNTIME_TYPE/);
    expect(e.counters('so', 'C')).toMatchObject({ errors: 1 }); // NaN is not a channel value
  });

  it('refuses bad sensor updates and updates to composites', async () => {
    const { e } = setup();
    await e.create('d', 'alice', DIAMOND);
    for (const bad of [
      { channels: { a: { 'current-value': { x: 1 } } }, lastUpdate: 1 },
      { channels: { z: { 'current-value': 1 } }, lastUpdate: 1 },
      su('s', 1),
      su(1, -1),
      { channels: {} },
    ]) {
      const r = await e.push('d', 'S', bad);
      expect(!r.ok && r.error.code).toBe('FERRY_COMPOSE_UPDATE');
    }
    const r = await e.push('d', 'D', su(1, 1));
    expect(!r.ok && r.error.code).toBe('FERRY_COMPOSE_NOT_SIMPLE');
    expect(e.counters('d', 'S')?.errors).toBe(5);
  });

  it('runs wasm channels through the FnRunner port', async () => {
    const calls: unknown[] = [];
    const { e } = setup({
      fn: {
        call: (hash, exp, args) => {
          calls.push([hash, exp, args]);
          return { ok: true, value: 42 };
        },
      },
    });
    await e.create('so', 'alice', { streams: { A: simple, W: comp({ fn: 'ab'.repeat(32), export: 'avg', inputs: ['A'] }) } });
    await e.push('so', 'A', su(3, 1));
    expect((await e.latest('so', 'W'))?.channels['a']).toBe(42);
    expect(calls).toEqual([['ab'.repeat(32), 'avg', [{ channels: { a: { 'current-value': 3 } }, lastUpdate: 1 }]]]);
  });

  it('keeps history by time range, and refuses to delete a stream another object reads', async () => {
    const { e } = setup();
    await e.create('src', 'alice', { streams: { t: simple } });
    await e.create('so', 'alice', { groups: { g: { soIds: ['src'], stream: 't' } }, streams: { G: comp(ref('g')) } });
    for (let t = 1; t <= 5; t++) await e.push('src', 't', su(t, t * 10));
    expect((await e.history('so', 'G', 20, 40)).map((v) => v.channels['a'])).toEqual([2, 3, 4]);
    const r = await e.remove('src');
    expect(!r.ok && r.error.code).toBe('FERRY_COMPOSE_IN_USE');
    expect((await e.remove('so')).ok && (await e.remove('src')).ok).toBe(true);
  });
});

describe('tenancy', () => {
  const other = { groups: { g: { soIds: ['bobs'], stream: 't' } }, tokens: ['pub-7'], streams: { G: comp(ref('g')) } };

  it("reads another owner's stream only through a grant; revoking stops the flow at once", async () => {
    const { e } = setup();
    await e.create('bobs', 'bob', { streams: { t: simple } });
    const denied = await e.create('alices', 'alice', other);
    expect(!denied.ok && denied.error.code).toBe('FERRY_COMPOSE_FORBIDDEN');
    e.grant('bobs', { stream: 't', to: { owner: 'alice' } });
    expect((await e.create('alices', 'alice', other)).ok).toBe(true);
    await e.push('bobs', 't', su(1, 1));
    expect((await e.latest('alices', 'G'))?.channels['a']).toBe(1);
    e.revoke('bobs', { stream: 't', to: { owner: 'alice' } });
    await e.push('bobs', 't', su(2, 2));
    expect((await e.latest('alices', 'G'))?.channels['a']).toBe(1);
    expect(e.counters('alices', 'G')).toMatchObject({ forbidden: 1 });
    expect(e.explain('alices', 'G', 1)[0]?.detail).toMatch(/FERRY_COMPOSE_FORBIDDEN/);
  });

  it('a grant to a public token id lets any object presenting it read', async () => {
    const { e } = setup();
    await e.create('bobs', 'bob', { grants: [{ stream: '*', to: { token: 'pub-7' } }], streams: { t: simple } });
    expect((await e.create('alices', 'alice', other)).ok).toBe(true);
    await e.push('bobs', 't', su(5, 1));
    expect((await e.latest('alices', 'G'))?.channels['a']).toBe(5);
    const { tokens: _, ...noToken } = other;
    expect((await e.create('carols', 'carol', noToken)).ok).toBe(false);
  });
});

describe('snapshot and restore', () => {
  it("carry an object's latest values and last outputs; replaying one emits nothing twice", async () => {
    const a = setup();
    await a.e.create('d', 'alice', DIAMOND);
    await a.e.push('d', 'S', su(1, 1));
    const snap = await a.e.snapshot('d');
    expect(snap.ok).toBe(true);
    if (!snap.ok) return;
    const b = setup();
    expect((await b.e.restore(JSON.parse(JSON.stringify(snap.value)))).ok).toBe(true);
    expect(await b.e.latest('d', 'D')).toEqual(await a.e.latest('d', 'D'));
    expect((await b.e.restore(snap.value)).ok).toBe(true);
    const redelivered = await b.e.push('d', 'S', su(1, 1));
    expect(redelivered.ok && redelivered.value.outputs).toEqual([]);
    await b.e.push('d', 'S', su(2, 2));
    expect((await b.e.latest('d', 'D'))?.channels['a']).toBe(2 + 5);
    for (const bad of [{}, { ...snap.value, format: 'x' }, { ...snap.value, streams: { Z: null } }, { ...snap.value, owner: 'mallory' }]) {
      const r = await b.e.restore(bad);
      expect(!r.ok && r.error.code).toBe('FERRY_COMPOSE_SNAPSHOT');
    }
  });
});
