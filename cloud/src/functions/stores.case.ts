/**
 * @module The function service's storage conformance suite: the contracts of OwnerStore, ModuleStore,
 * Whitelist, NamespaceStore (with quotas and a call's commit) and RevocationList, run against the Memory and
 * the SQLite stores by storage/sqlite/function-stores.test.ts and the Redis ones by
 * storage/redis/function-stores.test.ts. A persistent fixture must also show, after a
 * reopen (a restart), everything that was stored before it.
 */
import { STATUS } from '@ferry/abi';
import { afterEach, describe, expect, it } from 'vitest';
import type { NamespaceQuota, NamespaceStore, Whitelist } from './namespaces/namespace-store.ts';
import { OverlayState } from './namespaces/overlay.ts';
import type { OwnerRecord, OwnerStore } from './tokens/owners.ts';
import type { RevocationList } from './tokens/revocation.ts';
import type { ModuleStore } from './registry.ts';

export interface FunctionStores {
  readonly owners: OwnerStore;
  readonly modules: ModuleStore & { readonly size: number };
  readonly whitelist: Whitelist;
  readonly namespaces: NamespaceStore & { setQuota(owner: string, namespace: string, quota: NamespaceQuota): void };
  readonly revocations: RevocationList;
}

export interface FunctionStoreFixture {
  /**
   * The stores over the fixture's one backing, on a clock the suite moves (`nowMs`). Each call of a persistent
   * fixture is a new connection, as after a restart; in-memory fixtures return the same objects.
   */
  open(nowMs: () => number): FunctionStores;
  /** Whether what was stored outlives the objects that stored it (a restart). */
  readonly persistent: boolean;
  close(): Promise<void>;
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const OK = STATUS.OK.value;
const QUOTA_EXCEEDED = STATUS.QUOTA_EXCEEDED.value;
const T0 = 1_795_000_000_000;

const ownerRecord = (owner: string, fill: number): OwnerRecord => ({
  owner,
  verifier: new Uint8Array(32).fill(fill),
  signingSecret: new Uint8Array(32).fill(fill + 1),
  registeredAtMs: T0 + fill,
});

/** Every key of a state, in key_at order. */
const keysOf = (s: { keyAt(prefix: string, i: number): string | undefined }, prefix = ''): string[] => {
  const out: string[] = [];
  for (let i = 0, k = s.keyAt(prefix, 0); k !== undefined; k = s.keyAt(prefix, ++i)) out.push(k);
  return out;
};

export function functionStoreCases(name: string, make: () => Promise<FunctionStoreFixture>): void {
  describe(`function stores conformance: ${name}`, () => {
    const open: FunctionStoreFixture[] = [];
    let now = T0;
    const clock = (): number => now;
    const fixture = async (): Promise<FunctionStoreFixture> => {
      now = T0;
      const f = await make();
      open.push(f);
      return f;
    };
    afterEach(async () => {
      for (const f of open.splice(0)) await f.close();
    });

    it('OwnerStore: insert once per id (the first record stays), byte-exact get', async () => {
      const { owners } = (await fixture()).open(clock);
      expect(owners.get('alice')).toBeUndefined();
      expect(owners.insert(ownerRecord('alice', 1))).toBe(true);
      expect(owners.insert(ownerRecord('alice', 7))).toBe(false);
      expect(owners.insert(ownerRecord('bob', 3))).toBe(true);
      expect(owners.get('alice')).toEqual(ownerRecord('alice', 1));
      expect(owners.get('bob')).toEqual(ownerRecord('bob', 3));
      expect(owners.get('carol')).toBeUndefined();
    });

    it('ModuleStore: bytes by hash, stored once (a second put of the hash is a no-op), a copy of what was put', async () => {
      const { modules } = (await fixture()).open(clock);
      // The stores take the key as given (the registry computes it); SQLite re-checks it on read: a real SHA-256 here.
      const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
      const hash = '93a44bbb96c751218e4c00d479e4c14358122a389acca16205b1e4d0dc5f9476';
      expect(await modules.get(hash)).toBeUndefined();
      await modules.put(hash, bytes);
      bytes[7] = 9; // the caller's buffer is not the stored one
      await modules.put(hash, new Uint8Array([1, 2, 3]));
      expect(await modules.get(hash)).toEqual(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
      expect(modules.size).toBe(1);
      expect(await modules.get('0'.repeat(64))).toBeUndefined();
    });

    it('Whitelist: per owner and namespace, idempotent, listed in order', async () => {
      const { whitelist: w } = (await fixture()).open(clock);
      w.allow('alice', 'home', 'h1');
      w.allow('alice', 'home', 'h0');
      w.allow('alice', 'home', 'h1');
      w.allow('bob', 'garage', 'h2');
      expect([w.has('alice', 'home', 'h1'), w.has('bob', 'home', 'h1'), w.has('alice', 'garage', 'h1')]).toEqual([true, false, false]);
      expect(w.list('alice', 'home')).toEqual(['h0', 'h1']);
      expect(w.list('nobody', 'home')).toEqual([]);
      w.disallow('alice', 'home', 'h1');
      w.disallow('alice', 'home', 'never-there');
      expect(w.has('alice', 'home', 'h1')).toBe(false);
      expect(w.list('alice', 'home')).toEqual(['h0']);
    });

    it('NamespaceStore: state per (owner, namespace); get, overwrite, key_at in byte order by prefix; binary values', async () => {
      const { namespaces: ns } = (await fixture()).open(clock);
      const home = ns.state('alice', 'home');
      for (const k of ['temp.b', 'temp.a', 'mode', 'temp.', 'tempo']) expect(home.set(k, enc(`v-${k}`))).toBe(OK);
      expect(home.set('bin', new Uint8Array([0, 255, 0]))).toBe(OK);
      expect(home.set('empty', new Uint8Array(0))).toBe(OK);
      expect(home.set('mode', enc('heat'))).toBe(OK);
      expect(ns.state('alice', 'home').get('mode')).toEqual(enc('heat'));
      expect(home.get('bin')).toEqual(new Uint8Array([0, 255, 0]));
      expect(home.get('empty')).toEqual(new Uint8Array(0));
      expect(home.get('nope')).toBeUndefined();
      expect(keysOf(home)).toEqual(['bin', 'empty', 'mode', 'temp.', 'temp.a', 'temp.b', 'tempo']);
      expect(keysOf(home, 'temp.')).toEqual(['temp.', 'temp.a', 'temp.b']);
      expect(home.keyAt('temp.', 3)).toBeUndefined();
      expect(home.keyAt('zz', 0)).toBeUndefined();
      expect(ns.state('bob', 'home').get('mode')).toBeUndefined();
      expect(keysOf(ns.state('bob', 'home'))).toEqual([]);
      expect(keysOf(ns.state('alice', 'garage'))).toEqual([]);
    });

    it('NamespaceStore: quotas per namespace with a default; a full namespace refuses new keys, not overwrites', async () => {
      const { namespaces: ns } = (await fixture()).open(clock);
      expect(ns.quota('alice', 'home')).toEqual({ maxKeys: 1024, maxPages: 16 });
      ns.setQuota('alice', 'small', { maxKeys: 2, maxPages: 1 });
      expect(ns.quota('alice', 'small')).toEqual({ maxKeys: 2, maxPages: 1 });
      expect(ns.quota('bob', 'small')).toEqual({ maxKeys: 1024, maxPages: 16 });
      const s = ns.state('alice', 'small');
      expect([s.set('a', enc('1')), s.set('b', enc('2')), s.set('c', enc('3')), s.set('a', enc('4'))]).toEqual([OK, OK, QUOTA_EXCEEDED, OK]);
      expect(keysOf(s)).toEqual(['a', 'b']);
      expect(s.get('a')).toEqual(enc('4'));
    });

    it("a call's commit (OverlayState over the store's state) lands its writes together and reports refused keys", async () => {
      const { namespaces: ns } = (await fixture()).open(clock);
      ns.setQuota('alice', 'home', { maxKeys: 3, maxPages: 16 });
      const base = ns.state('alice', 'home');
      expect(base.set('keep', enc('0'))).toBe(OK);
      const call = new OverlayState(base);
      for (const [k, v] of [
        ['x', '1'],
        ['keep', '2'],
        ['y', '3'],
        ['z', '4'],
      ] as const)
        call.set(k, enc(v));
      expect(base.get('x')).toBeUndefined(); // nothing lands before the commit
      expect(call.commit()).toEqual(['z']);
      expect(keysOf(ns.state('alice', 'home'))).toEqual(['keep', 'x', 'y']);
      expect(base.get('keep')).toEqual(enc('2'));
      expect(new OverlayState(base).commit()).toEqual([]);
    });

    it('RevocationList: a jti is revoked until its exp; other jtis are not', async () => {
      const { revocations: r } = (await fixture()).open(clock);
      expect(r.isRevoked('j1')).toBe(false);
      r.revoke('j1', now + 60_000);
      r.revoke('j2', now + 1_000);
      expect([r.isRevoked('j1'), r.isRevoked('j2'), r.isRevoked('j3')]).toEqual([true, true, false]);
      now += 30_000; // j2 expired: the expiry check refuses it anyway, the list may drop it
      r.revoke('j3', now + 60_000);
      expect([r.isRevoked('j1'), r.isRevoked('j3')]).toEqual([true, true]);
    });

    it('survives a restart: a new connection sees the owners, modules, white-list, state, quotas and revocations', async (ctx) => {
      const f = await fixture();
      if (!f.persistent) ctx.skip('in-memory stores do not outlive the process: nothing to restart');
      const before = f.open(clock);
      before.owners.insert(ownerRecord('alice', 1));
      const hash = '93a44bbb96c751218e4c00d479e4c14358122a389acca16205b1e4d0dc5f9476';
      await before.modules.put(hash, new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
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
      now += 2_000;

      const after = f.open(clock);
      expect(after.owners.get('alice')).toEqual(ownerRecord('alice', 1));
      expect(after.owners.insert(ownerRecord('alice', 9))).toBe(false);
      expect(await after.modules.get(hash)).toEqual(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
      expect(after.whitelist.list('alice', 'home')).toEqual([hash]);
      expect(after.namespaces.quota('alice', 'home')).toEqual({ maxKeys: 3, maxPages: 4 });
      const home = after.namespaces.state('alice', 'home');
      expect(keysOf(home)).toEqual(['temp.a', 'temp.b']);
      expect([home.get('temp.a'), home.get('temp.b')]).toEqual([new Uint8Array([0, 1]), enc('21.5 1')]);
      expect([home.set('c', enc('')), home.set('d', enc(''))]).toEqual([OK, QUOTA_EXCEEDED]); // the quota came back too
      expect(after.revocations.isRevoked('kept')).toBe(true);
    });
  });
}
