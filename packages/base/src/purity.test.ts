import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// @ferry/base is imported by the pure cores (rules, message, ingest): it may import nothing but its siblings.
describe('base purity', () => {
  it('imports only its own files', () => {
    const dir = new URL('.', import.meta.url);
    const offenders = readdirSync(dir)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .filter((f) => [...readFileSync(new URL(f, dir), 'utf8').matchAll(/from\s+'([^']+)'/g)].some((m) => !m[1]!.startsWith('./')));
    expect(offenders).toEqual([]);
  });
});
