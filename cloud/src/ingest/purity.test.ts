import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The sequencing core is ported to Lua (reorder.lua) and run inside SQLite transactions: it must stay pure,
// importing only its siblings, @ferry/message, and types from @ferry/base (the Clock port).
const CORE = ['reorder.ts', 'reorder-types.ts', 'groups.ts', 'errors.ts', 'counters.ts', 'ports.ts', 'steps.ts', 'pipeline.ts'];
const PACKAGES = new Set(['@ferry/message', '@ferry/base']);
describe('core purity', () => {
  it('core files import nothing from node: or an npm package other than @ferry/message (and types from @ferry/base)', () => {
    const offenders = CORE.filter((f) => {
      const src = readFileSync(new URL(f, import.meta.url), 'utf8');
      const base = src.match(/from\s+'@ferry\/base'/g)?.length ?? 0;
      const baseTypes = src.match(/import\s+type\s+\{[^}]*\}\s+from\s+'@ferry\/base'/g)?.length ?? 0;
      return [...src.matchAll(/from\s+'([^']+)'/g)].some((m) => !m[1]!.startsWith('./') && !PACKAGES.has(m[1]!)) || base !== baseTypes;
    });
    expect(offenders).toEqual([]);
  });
});
