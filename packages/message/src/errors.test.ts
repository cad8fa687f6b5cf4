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
  // docs/errors.md lists every code (packages/base/src/errors-docs.test.ts checks it); the format page links there.
  it('docs/message-format.md names only catalogued codes and links to the list in docs/errors.md', () => {
    const doc = readFileSync(new URL('../../../docs/message-format.md', import.meta.url), 'utf8');
    expect(doc).toContain('(errors.md#ferry_msg_-2000-2999)');
    const unknown = [...doc.matchAll(/FERRY_MSG_[A-Z_]*[A-Z]/g)].map((m) => m[0]).filter((c) => !(c in MESSAGE_ERRORS));
    expect(unknown).toEqual([]);
  });
});
