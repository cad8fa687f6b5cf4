import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The codec core imports no node: module and no I/O library, so it runs unchanged wherever a token is made
// or checked; besides its siblings it may import @ferry/base, which imports nothing itself (its own purity
// test). Adapters and test support may import more.
const ALLOWED = new Set(['node-hmac.ts', 'mqtt-password.ts', 'fixtures.ts']);
describe('core purity', () => {
  it('core files import nothing from node: or npm', () => {
    const dir = new URL('.', import.meta.url);
    const offenders = readdirSync(dir)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !ALLOWED.has(f))
      .filter((f) => /from\s+'(?!\.|@ferry\/base')/.test(readFileSync(new URL(f, dir), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
