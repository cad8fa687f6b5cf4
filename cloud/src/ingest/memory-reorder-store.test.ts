/** Runs the ReorderStore conformance suite on the in-memory store, plus what is particular to it. */
import { describe, expect, it } from 'vitest';
import { IngestError } from './errors.ts';
import { MemoryReorderStore } from './memory-reorder-store.ts';
import { DEFAULT_REORDER_CONFIG } from './reorder.ts';
import { reorderStoreCases } from './reorder-store.case.ts';

reorderStoreCases('memory', (cfg) => new MemoryReorderStore<string>(cfg));

describe('MemoryReorderStore', () => {
  it('fills unspecified options with the defaults and checks them', () => {
    expect(new MemoryReorderStore({ window: 32 }).config).toEqual({ ...DEFAULT_REORDER_CONFIG, window: 32 });
    expect(() => new MemoryReorderStore({ window: 0 })).toThrow(IngestError);
  });
  it('answers synchronously (no promise per message)', () => {
    const s = new MemoryReorderStore<string>();
    const r = s.apply('a', { ep: 0, sq: 0, ref: 'x' }, 0);
    expect(r).not.toBeInstanceOf(Promise);
    expect(s.state('a')).toMatchObject({ ep: 0, next: 1 });
  });
});
