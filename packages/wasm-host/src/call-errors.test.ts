import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FN_ERRORS, FnError, fnFail } from './call-errors.ts';

describe('functions error catalog', () => {
  const entries = Object.entries(FN_ERRORS);
  it('codes are FERRY_FN_*, numbers unique and in the 4000-4499 range', () => {
    const nums = entries.map(([, e]) => e.num);
    expect(new Set(nums).size).toBe(nums.length);
    for (const [code, e] of entries) {
      expect(code).toMatch(/^FERRY_FN_[A-Z_]+$/);
      expect(e.num >= 4000 && e.num <= 4499).toBe(true);
    }
  });
  it('docs/functions.md links to docs/errors.md for the catalog (no table of its own) and names only codes that exist', () => {
    const doc = readFileSync(new URL('../../../docs/functions.md', import.meta.url), 'utf8');
    expect(doc).toContain('](errors.md)');
    expect(doc).not.toMatch(/^\|\s*`FERRY_FN_[A-Z_]+`\s*\|\s*\d+\s*\|/m);
    const named = new Set([...doc.matchAll(/\bFERRY_FN_[A-Z0-9_]*[A-Z0-9]\b/g)].map((m) => m[0]));
    expect(named.size).toBeGreaterThan(0);
    expect([...named].filter((c) => !Object.hasOwn(FN_ERRORS, c))).toEqual([]);
  });
  it('errors carry code, number and details, and serialise to JSON', () => {
    const r = fnFail('FERRY_FN_MODULE_INVALID', 'x', ['FERRY_ABI_UNKNOWN_IMPORT']);
    expect(r.ok).toBe(false);
    const e = (r as { error: FnError }).error;
    expect(e).toBeInstanceOf(Error);
    expect(JSON.parse(JSON.stringify(e))).toEqual({
      code: 'FERRY_FN_MODULE_INVALID',
      num: 4003,
      message: 'FERRY_FN_MODULE_INVALID: x',
      details: ['FERRY_ABI_UNKNOWN_IMPORT'],
    });
    expect(new FnError('FERRY_FN_TIMEOUT', 'y').toJSON()).not.toHaveProperty('details');
  });
});
