import { describe, expect, it } from 'vitest';
import { MemoryNamespaceStore, MemoryWhitelist } from './namespace-store.ts';

const enc = (s: string) => new TextEncoder().encode(s);

describe('MemoryNamespaceStore', () => {
  it('isolates owners: the same namespace name is a different state per owner', () => {
    const s = new MemoryNamespaceStore();
    s.state('alice', 'home').set('temp.k', enc('2100'));
    expect(s.state('alice', 'home').get('temp.k')).toEqual(enc('2100'));
    expect(s.state('bob', 'home').get('temp.k')).toBeUndefined();
    expect(s.state('bob', 'home').keyAt('', 0)).toBeUndefined();
    expect(s.state('alice', 'garage').keyAt('', 0)).toBeUndefined();
  });

  it('applies per-namespace quotas with a default', () => {
    const s = new MemoryNamespaceStore({ defaultQuota: { maxKeys: 1, maxPages: 2 } });
    s.setQuota('alice', 'big', { maxKeys: 5, maxPages: 8 });
    expect(s.quota('alice', 'home')).toEqual({ maxKeys: 1, maxPages: 2 });
    expect(s.quota('alice', 'big').maxPages).toBe(8);
    const home = s.state('alice', 'home');
    expect([home.set('a', enc('')), home.set('b', enc(''))]).toEqual([0, -4]);
  });
});

describe('MemoryWhitelist', () => {
  it('is per owner and namespace', () => {
    const w = new MemoryWhitelist();
    w.allow('alice', 'home', 'h1');
    w.allow('alice', 'home', 'h0');
    expect(w.has('alice', 'home', 'h1')).toBe(true);
    expect(w.has('bob', 'home', 'h1')).toBe(false);
    expect(w.has('alice', 'garage', 'h1')).toBe(false);
    expect(w.list('alice', 'home')).toEqual(['h0', 'h1']);
    w.disallow('alice', 'home', 'h1');
    expect(w.has('alice', 'home', 'h1')).toBe(false);
  });
});
