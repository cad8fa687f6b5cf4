import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// STYLE.md §8: the codec core imports no node: module and no I/O library; adapters and test support may.
const ALLOWED = new Set(['node-hmac.ts', 'fixtures.ts']);
describe('core purity', () => {
  it('core files import nothing from node: or npm', () => {
    const dir = new URL('.', import.meta.url);
    const offenders = readdirSync(dir)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !ALLOWED.has(f))
      .filter((f) => /from\s+'(?!\.)/.test(readFileSync(new URL(f, dir), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
