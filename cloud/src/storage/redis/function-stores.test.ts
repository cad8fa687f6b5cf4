/**
 * The function stores conformance suite (stores.case.ts) over the Redis stores, and what only they do: a
 * restart (a new store set loads what an earlier one wrote), and two store sets on two connections (two
 * workers) seeing each other's writes after the announcement, with first-one-wins owners and last-writer-wins
 * state converging on what Redis holds. Skips without redis-server (fails under CI=true: @ferry/test-kit/redis).
 */
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { OverlayState } from '../../functions/namespaces/overlay.ts';
import { generatePrivateToken } from '../../functions/tokens/private-token.ts';
import { startRedis, type RedisHarness } from '@ferry/test-kit/redis';
import { redisFunctionStores, type RedisFunctionStores } from './function-stores.ts';
import { functionStoreCases } from '../../functions/stores.case.ts';

const MASTER = new Uint8Array(32).fill(7);
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const T0 = 1_795_000_000_000;

/** Started at collection, so the shared suite is registered only with a Redis (startRedis throws under CI=true). */
const harness: RedisHarness = await startRedis();
afterAll(async () => {
  if (harness.ok) await harness.stop();
});

/** The harness, or a skip with its reason. */
const redisOr = (ctx: { skip: (note?: string) => void }): Extract<RedisHarness, { ok: true }> => {
  if (!harness.ok) ctx.skip(harness.reason);
  return harness as Extract<RedisHarness, { ok: true }>;
};

/** A store set (one worker) on its own two connections, loaded. */
async function worker(h: Extract<RedisHarness, { ok: true }>, prefix: string, nowMs: () => number = Date.now): Promise<RedisFunctionStores & { redis: Redis }> {
  const redis = h.connect();
  const s = redisFunctionStores(redis, {
    masterKey: MASTER,
    prefix,
    subscriber: h.connect(),
    nowMs,
    onError: (e) => {
      throw e;
    },
  });
  await s.load();
  return { ...s, redis };
}

async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  for (const end = Date.now() + 5_000; !(await cond()); ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * The shared suite. Not `persistent`: its restart case reopens synchronously right after writing, while a
 * Redis store set must `await load()` (and its writes reach Redis asynchronously); the restart is tested below.
 */
if (harness.ok) {
  const h = harness;
  functionStoreCases('redis', async () => {
    let clock: () => number = Date.now;
    const w = await worker(h, h.prefix(), () => clock());
    return {
      persistent: false,
      open: (nowMs) => {
        clock = nowMs;
        return { owners: w.stores.owners, modules: w.stores.modules, whitelist: w.whitelist, namespaces: w.namespaces, revocations: w.revocations };
      },
      close: () => w.close(),
    };
  });
} else {
  describe.skip(`function stores conformance: redis (${harness.reason})`, () => {
    it('needs redis-server', () => undefined);
  });
}

describe('redis function stores', () => {
  it('a new store set (a restarted worker) loads the owners, modules, white-list, state, quotas and revocations', async (ctx) => {
    const h = redisOr(ctx);
    const prefix = h.prefix();
    let now = T0;
    const before = await worker(h, prefix, () => now);
    const rec = { owner: 'alice', verifier: new Uint8Array(32).fill(1), signingSecret: new Uint8Array(32).fill(2), registeredAtMs: T0 };
    expect(before.stores.owners.insert(rec)).toBe(true);
    const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
    const hash = '93a44bbb96c751218e4c00d479e4c14358122a389acca16205b1e4d0dc5f9476';
    await before.stores.modules.put(hash, bytes);
    before.whitelist.allow('alice', 'home', hash);
    before.whitelist.allow('alice', 'home', 'gone');
    before.whitelist.disallow('alice', 'home', 'gone');
    before.namespaces.setQuota('alice', 'home', { maxKeys: 3, maxPages: 4 });
    const call = new OverlayState(before.namespaces.state('alice', 'home'));
    call.set('temp.b', enc('21.5 1'));
    call.set('temp.a', new Uint8Array([0, 1]));
    call.commit();
    before.revocations.revoke('kept', now + 60_000);
    before.revocations.revoke('expires', now + 1_000);
    await before.close();
    now += 2_000;

    const after = await worker(h, prefix, () => now);
    expect(after.stores.owners.get('alice')).toEqual(rec);
    expect(after.stores.owners.insert({ ...rec, verifier: new Uint8Array(32).fill(9) })).toBe(false);
    expect(await after.stores.modules.get(hash)).toEqual(bytes);
    expect(after.stores.modules.size).toBe(1);
    expect(after.whitelist.list('alice', 'home')).toEqual([hash]);
    expect(after.namespaces.quota('alice', 'home')).toEqual({ maxKeys: 3, maxPages: 4 });
    const home = after.namespaces.state('alice', 'home');
    expect([home.keyAt('', 0), home.keyAt('', 1), home.keyAt('', 2)]).toEqual(['temp.a', 'temp.b', undefined]);
    expect([home.get('temp.a'), home.get('temp.b')]).toEqual([new Uint8Array([0, 1]), enc('21.5 1')]);
    expect(after.revocations.isRevoked('kept')).toBe(true);
    expect(after.revocations.isRevoked('expires')).toBe(false);
    // The signing secret is sealed in Redis; another master key reads the owner as absent (the id stays taken).
    const raw = (await after.redis.hgetBuffer(`${prefix}fn:owners`, 'alice'))!;
    expect(raw.includes(Buffer.from(rec.signingSecret))).toBe(false);
    const other = redisFunctionStores(h.connect(), { masterKey: new Uint8Array(32).fill(8), prefix, subscriber: h.connect() });
    await other.load();
    expect(other.stores.owners.get('alice')).toBeUndefined();
    expect(other.stores.owners.insert(rec)).toBe(false);
    await Promise.all([after.close(), other.close()]);
  });

  it('two workers: a write on one is visible on the other once announced (owners, modules, white-list, state, quotas, revocations)', async (ctx) => {
    const h = redisOr(ctx);
    const prefix = h.prefix();
    const [a, b] = [await worker(h, prefix), await worker(h, prefix)] as const;
    const rec = { owner: 'alice', verifier: new Uint8Array(32).fill(1), signingSecret: new Uint8Array(32).fill(2), registeredAtMs: T0 };
    expect(a.stores.owners.insert(rec)).toBe(true);
    a.whitelist.allow('alice', 'home', 'h1');
    a.namespaces.setQuota('alice', 'home', { maxKeys: 5, maxPages: 2 });
    const call = new OverlayState(a.namespaces.state('alice', 'home'));
    call.set('x', enc('1'));
    call.set('y', enc('2'));
    call.commit();
    a.revocations.revoke('j1', Date.now() + 60_000);
    const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
    const hash = '93a44bbb96c751218e4c00d479e4c14358122a389acca16205b1e4d0dc5f9476';
    await a.stores.modules.put(hash, bytes);
    expect(await b.stores.modules.get(hash)).toEqual(bytes); // read from Redis on a miss: no announcement needed
    await until('the revocation reaches b', () => b.revocations.isRevoked('j1')); // the last write a sent
    expect(b.stores.owners.get('alice')).toEqual(rec);
    expect(b.stores.owners.insert({ ...rec, verifier: new Uint8Array(32).fill(3) })).toBe(false);
    expect(b.whitelist.has('alice', 'home', 'h1')).toBe(true);
    expect(b.namespaces.quota('alice', 'home')).toEqual({ maxKeys: 5, maxPages: 2 });
    expect([b.namespaces.state('alice', 'home').get('x'), b.namespaces.state('alice', 'home').get('y')]).toEqual([enc('1'), enc('2')]);
    expect(b.stores.modules.size).toBe(1);
    // And back: b's write reaches a.
    b.whitelist.disallow('alice', 'home', 'h1');
    await until('the white-list change reaches a', () => !a.whitelist.has('alice', 'home', 'h1'));
    await Promise.all([a.close(), b.close()]);
  });

  it('two workers writing one key at once converge on the value Redis kept (last writer wins); one owner id has one winner', async (ctx) => {
    const h = redisOr(ctx);
    const prefix = h.prefix();
    const [a, b] = [await worker(h, prefix), await worker(h, prefix)] as const;
    const sa = a.namespaces.state('alice', 'home');
    const sb = b.namespaces.state('alice', 'home');
    for (let i = 0; i < 50; i++) {
      sa.set('k', enc(`a${i}`));
      sb.set('k', enc(`b${i}`));
    }
    // Both register one id before either heard of the other: both answer locally, one wins in Redis.
    const privA = generatePrivateToken('carol');
    const privB = generatePrivateToken('carol');
    const ra = a.owners.register(privA);
    const rb = b.owners.register(privB);
    expect([ra.ok, rb.ok]).toEqual([true, true]);
    await Promise.all([a.flush(), b.flush()]);
    const stored = async (): Promise<string | undefined> => (await a.redis.hget(`${prefix}fn:state:alice/home`, 'k')) ?? undefined;
    const dec = (v: Uint8Array | undefined): string | undefined => (v === undefined ? undefined : new TextDecoder().decode(v));
    await until('both copies equal Redis', async () => {
      const s = await stored();
      return dec(sa.get('k')) === s && dec(sb.get('k')) === s;
    });
    expect(['a49', 'b49']).toContain(await stored());
    await until('both workers agree on carol', () => {
      const x = a.stores.owners.get('carol');
      const y = b.stores.owners.get('carol');
      return x !== undefined && y !== undefined && Buffer.from(x.verifier).equals(Buffer.from(y.verifier));
    });
    // Exactly one private token authenticates, on both workers (the loser's is refused despite its 201).
    const okOn = (w: RedisFunctionStores, t: string): boolean => w.owners.authenticate(t).ok;
    const winners = [privA, privB].filter((t) => okOn(a, t) && okOn(b, t));
    expect(winners).toHaveLength(1);
    expect([privA, privB].filter((t) => okOn(a, t) || okOn(b, t))).toEqual(winners);
    await Promise.all([a.close(), b.close()]);
  });
});
