import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MESSAGE_ERRORS } from './errors.ts';

describe('error catalog', () => {
  const entries = Object.entries(MESSAGE_ERRORS);
  it('numbers are unique and in the 2xxx range', () => {
    const nums = entries.map(([, e]) => e.num);
    expect(new Set(nums).size).toBe(nums.length);
    for (const n of nums) expect(n >= 2000 && n < 3000).toBe(true);
  });
  it('docs/message-format.md documents every code with its number', () => {
    const doc = readFileSync(new URL('../../../docs/message-format.md', import.meta.url), 'utf8');
    const missing = entries.filter(([code, e]) => !new RegExp(`\\|\\s*\`?${code}\`?\\s*\\|\\s*${e.num}\\s*\\|`).test(doc)).map(([c]) => c);
    expect(missing).toEqual([]);
  });
});
