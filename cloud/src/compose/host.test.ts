/** The composite-stream host in the cloud service: persistence across a restart, grants, outputs, moves. */
import { afterEach, describe, expect, it } from 'vitest';
import { call, cloudOptions, create, fixture, owner, su, withMember } from '../api/sos.case.ts';
import type { CloudOptions } from '../service/service.ts';
import { startTestCloud, type TestCloud } from '../service/test-cloud.case.ts';
import type { HostedOutput } from './hosting.ts';
import { componentOf, dependencyOrder } from './order.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const options = (dataDir?: string): CloudOptions => cloudOptions(dataDir === undefined ? {} : { dataDir });

async function cloud(o: CloudOptions): Promise<TestCloud & { api: string }> {
  const c = await startTestCloud(o);
  cleanups.push(c.stop);
  return { ...c, api: c.httpUrl };
}

const simple = { streams: { t: { channels: { a: { type: 'number' } } } } };
const doubler = (src: string) => ({
  groups: { g: { soIds: [src], stream: 't' } },
  streams: { D: { channels: { a: { type: 'number', 'current-value': '{$g.channels.a.current-value} * 2' } } } },
});

describe('ComposeHost in the cloud service', () => {
  it('keeps objects, grants and values across a restart, and installs members before their readers', async () => {
    const o = options();
    const first = await cloud(o);
    const alice = await owner(first.api, 'alice');
    const bob = await owner(first.api, 'bob');
    const member = await create(first.api, alice, fixture('0.1.0/additional-so.json'));
    const so = await create(first.api, alice, withMember(fixture('0.1.0/so-basic.json'), member));
    const src = await create(first.api, alice, simple);
    await call(first.api, 'POST', `/api/v1/sos/${src}/grants`, alice, { stream: 't', to: { owner: 'bob' } });
    const reader = await create(first.api, bob, doubler(src));
    await call(first.api, 'PUT', `/api/v1/sos/${member}/streams/some_stream`, alice, su(1, 1));
    await call(first.api, 'PUT', `/api/v1/sos/${so}/streams/A`, alice, su(2, 2));
    await call(first.api, 'PUT', `/api/v1/sos/${src}/streams/t`, alice, su(5, 1));
    await first.stop();

    const second = await cloud(o);
    expect([...second.svc.compose.installed.keys()].sort()).toEqual([member, so, src, reader].sort());
    expect((await call(second.api, 'GET', `/api/v1/sos/${so}/streams/B/lastUpdate`, alice)).body).toMatchObject({ channels: { a: 3 }, lastUpdate: 2 });
    expect((await call(second.api, 'GET', `/api/v1/sos/${src}/grants`, alice)).body).toEqual({ grants: [{ stream: 't', to: { owner: 'bob' } }] });
    // The update already applied before the restart is not newer: nothing is stored twice.
    expect((await call(second.api, 'PUT', `/api/v1/sos/${so}/streams/A`, alice, su(2, 2))).body).toEqual({ outcome: 'not-newer', outputs: 0 });
    expect((await call(second.api, 'PUT', `/api/v1/sos/${so}/streams/A`, alice, su(7, 3))).body).toEqual({ outcome: 'accepted', outputs: 2 });
    expect((await call(second.api, 'GET', `/api/v1/sos/${so}/streams/B?from=0&to=9`, alice)).body).toMatchObject({
      data: [{ channels: { a: 1 } }, { channels: { a: 3 } }, { channels: { a: 8 } }],
    });
    // The persisted grant still lets bob's composite read alice's stream.
    await call(second.api, 'PUT', `/api/v1/sos/${src}/streams/t`, alice, su(6, 2));
    expect((await call(second.api, 'GET', `/api/v1/sos/${reader}/streams/D/lastUpdate`, bob)).body).toMatchObject({ channels: { a: 12 } });
  }, 30_000);

  it('tells listeners every stored value in propagation order, and nothing through a revoked grant', async () => {
    const c = await cloud(options());
    const alice = await owner(c.api, 'alice');
    const bob = await owner(c.api, 'bob');
    const src = await create(c.api, alice, simple);
    const g = { stream: '*', to: { owner: 'bob' } };
    await call(c.api, 'POST', `/api/v1/sos/${src}/grants`, alice, g);
    const reader = await create(c.api, bob, doubler(src));
    const seen: HostedOutput[] = [];
    const off = c.svc.compose.onOutput((x) => seen.push(x));
    await c.svc.compose.push({ owner: 'alice' }, src, 't', su(3, 1));
    expect(seen.map((x) => [x.owner, x.so, x.stream, x.kind, x.value.channels['a']])).toEqual([
      ['alice', src, 't', 'update', 3],
      ['bob', reader, 'D', 'output', 6],
    ]);
    expect(await c.svc.compose.mayRead({ owner: 'bob' }, src, 't')).toBe(true);
    await call(c.api, 'DELETE', `/api/v1/sos/${src}/grants`, alice, g);
    expect(await c.svc.compose.mayRead({ owner: 'bob' }, src, 't')).toBe(false);
    seen.length = 0;
    await c.svc.compose.push({ owner: 'alice' }, src, 't', su(4, 2));
    expect(seen.map((x) => x.so)).toEqual([src]);
    expect(c.svc.compose.engine.counters(reader, 'D')?.forbidden).toBe(1);
    off();
    // Feeding is the owner's: another owner is told the object does not exist.
    const r = await c.svc.compose.push({ owner: 'bob' }, src, 't', su(5, 3));
    expect(!r.ok && r.error.code).toBe('FERRY_COMPOSE_NOT_FOUND');
  }, 30_000);

  it('moves a connected component out with its values and in elsewhere; a replayed move emits nothing twice', async () => {
    const a = await cloud(options());
    const b = await cloud(options());
    const alice = await owner(a.api, 'alice');
    const aliceB = await owner(b.api, 'alice');
    const src = await create(a.api, alice, simple);
    const reader = await create(a.api, alice, doubler(src));
    const lone = await create(a.api, alice, simple);
    await a.svc.compose.push({ owner: 'alice' }, src, 't', su(2, 10));
    const out = await a.svc.compose.moveOut({ owner: 'alice' }, reader);
    if (!out.ok) throw out.error;
    expect(out.value.map((s) => s.so)).toEqual([src, reader]); // members first
    expect(out.value[1]?.streams['D']).toMatchObject({ channels: { a: 4 }, lastUpdate: 10 });
    expect([...a.svc.compose.installed.keys()]).toEqual([lone]);
    expect((await call(a.api, 'GET', `/api/v1/sos/${src}`, alice)).status).toBe(404);
    const refused = await b.svc.compose.moveIn({ owner: 'bob' }, out.value);
    expect(!refused.ok && refused.error.code).toBe('FERRY_COMPOSE_FORBIDDEN');
    const seen: HostedOutput[] = [];
    b.svc.compose.onOutput((x) => seen.push(x));
    expect((await b.svc.compose.moveIn({ owner: 'alice' }, [...out.value].reverse())).ok).toBe(true);
    expect((await b.svc.compose.moveIn({ owner: 'alice' }, out.value)).ok).toBe(true);
    expect(seen).toEqual([]);
    expect((await call(b.api, 'GET', `/api/v1/sos/${reader}/streams/D/lastUpdate`, aliceB)).body).toMatchObject({ channels: { a: 4 } });
    expect((await b.svc.compose.push({ owner: 'alice' }, src, 't', su(2, 10))).ok && seen).toEqual([]); // not newer there either
    await b.svc.compose.push({ owner: 'alice' }, src, 't', su(5, 11));
    expect(seen.map((x) => [x.stream, x.value.channels['a']])).toEqual([
      ['t', 5],
      ['D', 10],
    ]);
  }, 30_000);
});

describe('object order', () => {
  it('puts members first and finds a connected component over references either way', () => {
    const deps: Record<string, string[]> = { a: [], b: ['a'], c: ['b', 'a'], d: [], e: ['d'] };
    expect(
      dependencyOrder(
        ['c', 'b', 'a'],
        (x) => x,
        (x) => deps[x] ?? [],
      ),
    ).toEqual(['a', 'b', 'c']);
    expect(componentOf('b', (x) => deps[x], Object.keys(deps)).sort()).toEqual(['a', 'b', 'c']);
    expect(componentOf('e', (x) => deps[x], Object.keys(deps)).sort()).toEqual(['d', 'e']);
  });
});
