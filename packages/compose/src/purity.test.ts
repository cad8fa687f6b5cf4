import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The engine is hosted by the cloud and the gateway alike: it does no I/O and imports only its own files, jsep and @ferry/base.
describe('compose purity', () => {
  it('imports nothing but its siblings, jsep and @ferry/base', () => {
    const dir = new URL('.', import.meta.url);
    const offenders = readdirSync(dir)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .flatMap((f) => [...readFileSync(new URL(f, dir), 'utf8').matchAll(/from\s+'([^']+)'/g)].map((m) => `${f}: ${m[1]}`))
      .filter((x) => !/: (\.\/|jsep$|@ferry\/base$)/.test(x));
    expect(offenders).toEqual([]);
  });
});
