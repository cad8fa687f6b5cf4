import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The engine is hosted by the cloud and the gateway alike: it does no I/O and imports only its own files, jsep and @ferry/base.
describe('compose purity', () => {
  it('imports nothing but its siblings, jsep and @ferry/base', () => {
    const dir = new URL('.', import.meta.url);
    const offenders = readdirSync(dir)
      // Tests and test support (`*.case.ts`, the store contract hosts run) may use vitest; the engine may not.
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.case.ts'))
      .flatMap((f) => [...readFileSync(new URL(f, dir), 'utf8').matchAll(/from\s+'([^']+)'/g)].map((m) => `${f}: ${m[1]}`))
      .filter((x) => !/: (\.\/|jsep$|@ferry\/base$)/.test(x));
    expect(offenders).toEqual([]);
  });
});
