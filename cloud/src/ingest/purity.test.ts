import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The sequencing core is ported to Lua (reorder.lua) and run inside SQLite transactions: it must stay pure,
// importing only its siblings, @ferry/message and @ferry/base (the error-catalog helper, which imports nothing).
const ALLOWED = new Set(['@ferry/message', '@ferry/base']);
const CORE = ['reorder.ts', 'reorder-types.ts', 'groups.ts', 'errors.ts', 'counters.ts', 'ports.ts', 'steps.ts', 'pipeline.ts'];
describe('core purity', () => {
  it('core files import nothing from node: or an npm package other than @ferry/message and @ferry/base', () => {
    const offenders = CORE.filter((f) => {
      const src = readFileSync(new URL(f, import.meta.url), 'utf8');
      return [...src.matchAll(/from\s+'([^']+)'/g)].some((m) => !m[1]!.startsWith('./') && !ALLOWED.has(m[1]!));
    });
    expect(offenders).toEqual([]);
  });
});
