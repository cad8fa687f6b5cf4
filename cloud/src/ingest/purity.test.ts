import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The sequencing core is ported to Lua (reorder.lua) and run inside SQLite transactions: it must stay pure,
// importing only its siblings and @ferry/message types (STYLE.md §8).
const CORE = ['reorder.ts', 'reorder-types.ts', 'groups.ts', 'errors.ts', 'counters.ts', 'ports.ts', 'steps.ts', 'pipeline.ts'];
describe('core purity', () => {
  it('core files import nothing from node: or an npm package other than @ferry/message', () => {
    const offenders = CORE.filter((f) => {
      const src = readFileSync(new URL(f, import.meta.url), 'utf8');
      return [...src.matchAll(/from\s+'([^']+)'/g)].some((m) => !m[1]!.startsWith('./') && m[1] !== '@ferry/message');
    });
    expect(offenders).toEqual([]);
  });
});
