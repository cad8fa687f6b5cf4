/** The storage error catalog: its numbers, its errors, and docs/storage.md pointing at docs/errors.md for it. */
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
  it('docs/storage.md links to docs/errors.md for the catalog (no table of its own) and names only codes that exist', () => {
    const doc = readFileSync(new URL('../../../docs/storage.md', import.meta.url), 'utf8');
    expect(doc).toContain('](errors.md)');
    expect(doc).not.toMatch(/\|\s*`FERRY_STORE_[A-Z_]+`\s*\|\s*\d+/);
    const named = new Set([...doc.matchAll(/\bFERRY_STORE_[A-Z0-9_]*[A-Z0-9]\b/g)].map((m) => m[0]));
    expect(named.size).toBeGreaterThan(0);
    expect([...named].filter((c) => !Object.hasOwn(STORE_ERRORS, c))).toEqual([]);
  });
  it('errors carry code and number; wrap keeps StoreErrors and wraps the rest with their cause', () => {
    const e = new StoreError('FERRY_STORE_CLOSED', 'x');
    expect(isStoreError(e)).toBe(true);
    expect(e.toJSON()).toEqual({ code: 'FERRY_STORE_CLOSED', num: 4608, message: 'FERRY_STORE_CLOSED: x' });
    expect(() =>
      wrap('FERRY_STORE_OPEN', 'w', () => {
        throw e;
      }),
    ).toThrow(e);
    const boom = new Error('boom');
    try {
      wrap('FERRY_STORE_OPEN', 'opening', () => {
        throw boom;
      });
    } catch (x) {
      expect(x).toMatchObject({ code: 'FERRY_STORE_OPEN', num: 4602, message: 'FERRY_STORE_OPEN: opening: boom', cause: boom });
    }
  });
});
