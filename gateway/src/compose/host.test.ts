import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JsSandboxPool } from '@ferry/js-sandbox';
import { ComposeHost, type HostedValue } from './host.ts';
import { gatewayJsRunner } from './js-runner.ts';
import { GatewayComposeStore } from './store.ts';

const ref = (s: string, ch = 'a') => `{$${s}.channels.${ch}.current-value}`;
/** A: a simple stream and a composite over it; B reads A's composite through a group; C stands alone. */
const A = { streams: { src: { channels: { a: { type: 'number' } } }, dbl: { channels: { a: { type: 'number', 'current-value': `${ref('src')} * 2` } } } } };
const B = {
  groups: { g: { soIds: ['A'], stream: 'dbl' } },
  streams: { plus: { channels: { a: { type: 'number', 'current-value': `${ref('g')} + 1` } } } },
};
const C = { streams: { s: { channels: { a: { type: 'number' } } } } };
const su = (a: number, lastUpdate: number) => ({ channels: { a: { 'current-value': a } }, lastUpdate });
const GLOBAL = { global: true };

function host(path = ':memory:', beforeCommit?: (v: readonly HostedValue[]) => void) {
  const store = new GatewayComposeStore(path);
  const h = new ComposeHost({ store, clock: { now: () => 0 }, ...(beforeCommit && { beforeCommit }) });
  const seen: HostedValue[] = [];
  h.onOutput((v) => seen.push(v));
  return { h, store, seen };
}

async function installed(h: ComposeHost): Promise<void> {
  for (const [id, doc] of [
    ['A', A],
    ['B', B],
    ['C', C],
  ] as const)
    expect((await h.create(GLOBAL, id, 'alice', doc)).ok).toBe(true);
}

describe('ComposeHost (gateway)', () => {
  it('propagates, hands the wave to the outbox before it commits, and tells listeners after', async () => {
    const queued: string[] = [];
    const { h, seen } = host(':memory:', (vs) => queued.push(...vs.map((v) => `${v.kind}:${v.so}/${v.stream}`)));
    await installed(h);
    const r = await h.push({ owner: 'alice' }, 'A', 'src', su(3, 1));
    expect(r.ok && r.value.outcome).toBe('accepted');
    expect(queued).toEqual(['update:A/src', 'output:A/dbl', 'output:B/plus']);
    expect(seen.map((v) => v.value.channels['a'])).toEqual([3, 6, 7]);
  });

  it("answers another owner's push NOT_FOUND, and a refused outbox undoes the wave", async () => {
    const { h, store } = host(':memory:', () => {
      throw new Error('outbox full');
    });
    await installed(h);
    const other = await h.push({ owner: 'mallory' }, 'A', 'src', su(3, 1));
    expect(!other.ok && other.error.code).toBe('FERRY_COMPOSE_NOT_FOUND');
    await expect(h.push(GLOBAL, 'A', 'src', su(3, 1))).rejects.toThrow('outbox full');
    expect(store.latest('A/src')).toBeUndefined();
  });

  it('moves the connected component out (readers last in, first out) and into another host without a duplicate output', async () => {
    const a = host();
    const b = host();
    await installed(a.h);
    await a.h.push(GLOBAL, 'A', 'src', su(1, 1));
    expect(a.h.component('B')).toEqual(['A', 'B']);
    const out = await a.h.moveOut({ owner: 'alice' }, 'B');
    expect(out.ok && out.value.map((s) => s.so)).toEqual(['A', 'B']);
    expect(a.h.list(GLOBAL).map((o) => o.id)).toEqual(['C']);
    // Asked again (a reply lost on the way): the same snapshots.
    const again = await a.h.moveOut({ owner: 'alice' }, 'B');
    expect(again).toEqual(out);
    if (!out.ok) return;
    expect((await b.h.moveIn({ owner: 'alice' }, out.value)).ok).toBe(true);
    expect((await b.h.moveIn({ owner: 'alice' }, out.value)).ok).toBe(true); // a replay changes nothing
    await b.h.push(GLOBAL, 'A', 'src', su(1, 1)); // redelivered: not newer
    await b.h.push(GLOBAL, 'A', 'src', su(5, 2));
    expect(b.seen.map((v) => `${v.so}/${v.stream}=${v.value.channels['a']}`)).toEqual(['A/src=5', 'A/dbl=10', 'B/plus=11']);
    expect(await b.h.mayRead({ owner: 'alice' }, 'B', 'plus')).toBe(true);
    expect(await b.h.mayRead({ owner: 'mallory' }, 'B', 'plus')).toBe(false);
  });

  it('refuses snapshots of another owner, installing none of them', async () => {
    const a = host();
    const b = host();
    await installed(a.h);
    const out = await a.h.moveOut(GLOBAL, 'A');
    if (!out.ok) throw out.error;
    const r = await b.h.moveIn({ owner: 'mallory' }, out.value);
    expect(!r.ok && r.error.code).toBe('FERRY_COMPOSE_NOT_FOUND');
    const bad = await b.h.moveIn(GLOBAL, [out.value[0], { format: 'nope' }]);
    expect(!bad.ok && bad.error.code).toBe('FERRY_COMPOSE_SNAPSHOT');
    expect(b.h.list(GLOBAL)).toEqual([]);
  });

  it('installs its objects again after a restart, with their latest values', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ferry-gw-host-')), 'compose.db');
    const first = host(path);
    await installed(first.h);
    await first.h.push(GLOBAL, 'A', 'src', su(2, 7));
    first.store.close();
    const second = host(path);
    expect(await second.h.load()).toEqual([]);
    expect(second.h.list(GLOBAL).map((o) => o.id)).toEqual(['A', 'B', 'C']);
    const r = await second.h.push(GLOBAL, 'A', 'src', su(2, 7));
    expect(r.ok && r.value.outcome).toBe('not-newer');
    expect((await second.h.engine.latest('B', 'plus'))?.channels['a']).toBe(5);
  });

  it('runs 0.2.0 functions unchanged in the sandbox, and refuses wasm functions: the gateway has no function runner', async () => {
    const pool = await JsSandboxPool.create();
    try {
      const h = new ComposeHost({ store: new GatewayComposeStore(':memory:'), clock: { now: () => 0 }, js: gatewayJsRunner(pool) });
      const doc = {
        version: '0.2.0',
        streams: {
          src: { channels: { a: { type: 'number' } } },
          sum: {
            channels: {
              a: {
                type: 'number',
                'current-value':
                  'function(src){ var t = 0; [1, 2, 3].forEach(function(x){ t += x * src.channels.a["current-value"]; }); return t + (sum ? 1000 : 0); }',
              },
            },
          },
        },
      };
      expect((await h.create(GLOBAL, 'js', 'alice', doc)).ok).toBe(true);
      await h.push(GLOBAL, 'js', 'src', su(2, 1));
      await h.push(GLOBAL, 'js', 'src', su(1, 2));
      expect((await h.engine.latest('js', 'sum'))?.channels['a']).toBe(1006); // reads its own previous output
      const wasm = { streams: { src: C.streams.s, f: { channels: { a: { type: 'number', 'current-value': { fn: 'a'.repeat(64), export: 'f' } } } } } };
      const r = await h.create(GLOBAL, 'w', 'alice', wasm);
      expect(!r.ok && r.error.code).toBe('FERRY_COMPOSE_NO_RUNNER');
    } finally {
      pool.close();
    }
  });
});
