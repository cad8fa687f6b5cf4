/** Keeps the storage error catalog, its numbers and docs/storage.md in step (STYLE.md §4). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isStoreError, STORE_ERRORS, StoreError, wrap } from './errors.ts';

describe('storage error catalog', () => {
  const entries = Object.entries(STORE_ERRORS);
  it('numbers are unique and in the 4600-4699 range', () => {
    const nums = entries.map(([, e]) => e.num);
    expect(new Set(nums).size).toBe(nums.length);
    for (const n of nums) expect(n >= 4600 && n <= 4699).toBe(true);
  });
  it('docs/storage.md documents every code with its number, and no other', () => {
    const doc = readFileSync(new URL('../../../docs/storage.md', import.meta.url), 'utf8');
    const row = (code: string, e: { num: number; doc: string }): string => `| \`${code}\` | ${e.num} | ${e.doc} |`;
    const missing = entries.filter(([code, e]) => !doc.includes(row(code, e))).map(([c]) => c);
    expect(missing).toEqual([]);
    const documented = [...doc.matchAll(/\|\s*`(FERRY_STORE_[A-Z_]+)`\s*\|\s*\d+/g)].map((m) => m[1]);
    expect(documented.sort()).toEqual(entries.map(([c]) => c).sort());
  });
  it('errors carry code and number; wrap keeps StoreErrors and wraps the rest with their cause', () => {
    const e = new StoreError('FERRY_STORE_CLOSED', 'x');
    expect(isStoreError(e)).toBe(true);
    expect(e.toJSON()).toEqual({ code: 'FERRY_STORE_CLOSED', num: 4608, message: 'FERRY_STORE_CLOSED: x' });
    expect(() => wrap('FERRY_STORE_OPEN', 'w', () => { throw e; })).toThrow(e);
    const boom = new Error('boom');
    try {
      wrap('FERRY_STORE_OPEN', 'opening', () => { throw boom; });
    } catch (x) {
      expect(x).toMatchObject({ code: 'FERRY_STORE_OPEN', num: 4602, message: 'FERRY_STORE_OPEN: opening: boom', cause: boom });
    }
  });
});
