/**
 * Static checks that need no Redis: reorder.lua still names a counterpart for every function of the TS core
 * (it is a line-by-line port; reorder-store.test.ts proves it equal on a real Redis) and touches only
 * its one hash-tagged key; the due-index and time-series scripts stay inside their own slot.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (f: string): string => readFileSync(new URL(f, import.meta.url), 'utf8');
const lua = read('reorder.lua');
const keysOf = (src: string): string[] => [...new Set([...src.matchAll(/KEYS\[(\d+)\]/g)].map((m) => m[1]!))].sort();
const callsOf = (src: string): string[] => [...new Set([...src.matchAll(/redis\.call\('(\w+)'/g)].map((m) => m[1]!))].sort();

describe('the Lua scripts', () => {
  it('reorder.lua has a marked counterpart for every function of reorder.ts and groups.ts', () => {
    const fns = (src: string): string[] => [...src.matchAll(/^(?:export )?function (\w+)/gm)].map((m) => m[1]!);
    const core = (f: string): string => read(`../../ingest/${f}`);
    const wanted = [
      ...fns(core('reorder.ts'))
        .filter((f) => !['checkReorderConfig', 'initialState', 'draft', 'reorderStep', 'reorderTick', 'reorderFlush'].includes(f))
        .map((f) => `reorder.ts ${f}()`),
      ...fns(core('groups.ts'))
        .filter((f) => f !== 'closeAllGroups')
        .map((f) => `groups.ts ${f}()`),
      'reorder.ts reorderStep()',
      'reorder.ts draft()',
    ];
    expect(wanted.filter((w) => !lua.includes(w))).toEqual([]);
  });
  it('reorder.lua uses only KEYS[1] (the device key) and only GET/SET: cluster-safe, one slot', () => {
    expect(keysOf(lua)).toEqual(['1']);
    expect(callsOf(lua)).toEqual(['GET', 'SET']);
  });
  it('due-index.lua and time-series.lua touch only their own keys, which share a hash tag', () => {
    expect(keysOf(read('due-index.lua'))).toEqual(['1', '2']);
    expect(callsOf(read('due-index.lua'))).toEqual(['HDEL', 'HGET', 'HSET', 'ZADD', 'ZREM']);
    expect(keysOf(read('time-series.lua'))).toEqual(['1', '2', '3']);
    expect(callsOf(read('time-series.lua'))).toEqual(['INCR', 'SADD', 'ZADD']);
  });
});
