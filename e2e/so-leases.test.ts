/**
 * LeasedHosting in one process over a real Redis: requests through either worker run on the holder, in order;
 * typed errors come back as they were; outputs reach listeners only once committed; a worker that closes
 * hands its components over at once; and a holder whose lease was taken (a long pause) commits nothing.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComposeHost } from '@ferry/gateway';
import { startRedis, type RedisHarness } from '@ferry/test-kit/redis';
import type { HostedOutput } from '../cloud/src/compose/hosting.ts';
import { LeasedHosting } from '../cloud/src/compose/scale-out/leases.ts';
import { COMMIT, WaveBuffer } from '../cloud/src/compose/scale-out/wave-store.ts';
import { RedisComposeStore } from '../cloud/src/storage/redis/compose-store.ts';
import { runScript } from '../cloud/src/storage/redis/script.ts';
import { COMPOSITES, OBJECTS, OWNER, reference, update } from './so-topology.ts';

let redis: RedisHarness | undefined;
const open: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const c of open.reverse()) await c();
  if (redis?.ok === true) await redis.stop();
});

async function worker(url: string, id: string, prefix: string) {
  const client = new Redis(url);
  const buffer = new WaveBuffer(new RedisComposeStore({ redis: client, prefix, historyCap: 10_000 }), 10_000);
  const host = new ComposeHost({ store: buffer, clock: { now: () => 0 } });
  for (const [so, doc] of OBJECTS) await host.create({ global: true }, so, OWNER, doc);
  const leased = new LeasedHosting({
    local: host,
    buffer,
    redis: client,
    worker: id,
    prefix,
    leaseMs: 900,
    componentOf: (so) => host.component(so).sort()[0] ?? so,
  });
  const seen: HostedOutput[] = [];
  leased.onOutput((o) => seen.push(o));
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await leased.close();
    await client.quit();
  };
  open.push(close);
  return { leased, client, seen, close };
}

const need = (ctx: { skip: () => void }): string | undefined => {
  if (redis?.ok === true) return redis.url;
  if (process.env['CI'] === 'true') throw new Error('CI must have redis-server');
  ctx.skip();
  return undefined;
};

describe('LeasedHosting (one Redis, two workers in one process)', () => {
  it('runs every request on the one holder, in order; answers typed errors; tells listeners after the commit', async (ctx) => {
    const url = need(ctx);
    if (url === undefined) return;
    const prefix = `lh1-${process.pid}:`;
    const [a, b] = [await worker(url, 'a', prefix), await worker(url, 'b', prefix)];
    for (let i = 0; i < 40; i++) {
      const r = await [a, b][i % 2]!.leased.push({ owner: OWNER }, 'T', 'S', update(i));
      expect(r.ok && r.value.outcome).toBe('accepted');
    }
    const holder = a.leased.held.length > 0 ? a : b;
    expect([a.leased.held.length + b.leased.held.length, holder.leased.held]).toEqual([1, ['T']]);
    expect(holder.seen.filter((o) => o.stream === 'E')).toHaveLength(40);
    const store = new RedisComposeStore({ redis: a.client, prefix });
    const want = await reference(40);
    for (const k of COMPOSITES) expect(await store.range(k, 0, 1e15)).toEqual(want.get(k));

    const wrong = await b.leased.push({ owner: OWNER }, 'T', 'nope', update(99));
    expect(!wrong.ok && [wrong.error.code, wrong.error.message]).toEqual([
      'FERRY_COMPOSE_NOT_FOUND',
      'FERRY_COMPOSE_NOT_FOUND: so T, stream nope: no such stream',
    ]);
    const other = await b.leased.push({ owner: 'mallory' }, 'T', 'S', update(99));
    expect(!other.ok && other.error.code).toBe('FERRY_COMPOSE_NOT_FOUND');
    expect(await b.leased.mayRead({ owner: 'mallory' }, 'U', 'E')).toBe(false);

    // The holder closes: its lease goes at once, and the other worker carries on from where it stopped.
    const rest = holder === a ? b : a;
    await holder.close();
    const r = await rest.leased.push({ owner: OWNER }, 'T', 'S', update(40));
    expect(r.ok && r.value.outcome).toBe('accepted');
    expect(rest.leased.held).toEqual(['T']);
    expect((await new RedisComposeStore({ redis: rest.client, prefix }).range('U/E', 0, 1e15)).map((v) => v.id)).toEqual(
      (await reference(41)).get('U/E')!.map((v) => v.id),
    );
  }, 30_000);

  it('a commit under a lease that passed to another worker writes nothing (the fencing token)', async (ctx) => {
    const url = need(ctx);
    if (url === undefined) return;
    const c = new Redis(url);
    try {
      const p = `lh2-${process.pid}:`;
      await c.set(`${p}so-lease:T`, 'b:7');
      const latest = `${p}so:{T/S}:latest`;
      const args = ['a:6', '1-0', '{}', 1000, `${p}so-answers:a`, '{}', 1, 'L', '{"channels":{},"lastUpdate":1,"id":"x"}'];
      const keys = [`${p}so-lease:T`, `${p}so-cursor:T`, `${p}so-res:T|1-0`, `${p}so-in:T`, latest];
      expect(await runScript(c, COMMIT, keys, args)).toBe(0);
      expect([await c.get(latest), await c.get(`${p}so-cursor:T`)]).toEqual([null, null]);
      expect(await runScript(c, COMMIT, keys, ['b:7', ...args.slice(1)])).toBe(1);
      expect([await c.get(latest), await c.get(`${p}so-cursor:T`)]).toEqual(['{"channels":{},"lastUpdate":1,"id":"x"}', '1-0']);
    } finally {
      await c.quit();
    }
  });
});
