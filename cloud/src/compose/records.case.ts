/**
 * The contract every SoRecordStore keeps (memory here; SQLite and Redis in storage/): records by id, counts
 * per owner, grants per object held once, and a delete that forgets the grants too. Run it with the store's
 * factory from its own test file.
 */
import { describe, expect, it } from 'vitest';
import type { SoRecord, SoRecordStore } from './records.ts';

const rec = (id: string, owner: string, created: number, rev = 1): SoRecord => ({
  id,
  owner,
  created,
  rev,
  document: { version: '0.2.0', streams: { t: { channels: { $: { type: 'number' } } } }, note: `r${rev}` },
});

export function soRecordsContract(name: string, make: () => SoRecordStore | Promise<SoRecordStore>): void {
  describe(`SoRecordStore contract: ${name}`, () => {
    it('keeps records by id, replaces them, lists them oldest first and counts them per owner', async () => {
      const s = await make();
      expect(await s.get('a')).toBeUndefined();
      await s.put(rec('b', 'bob', 20));
      await s.put(rec('a', 'alice', 10));
      await s.put(rec('c', 'alice', 30));
      await s.put(rec('a', 'alice', 10, 2));
      expect(await s.get('a')).toEqual(rec('a', 'alice', 10, 2));
      expect((await s.list()).map((r) => r.id)).toEqual(['a', 'b', 'c']);
      expect([await s.count('alice'), await s.count('bob'), await s.count('carol')]).toEqual([2, 1, 0]);
      await s.delete('c');
      await s.delete('c');
      expect([await s.get('c'), await s.count('alice')]).toEqual([undefined, 1]);
    });

    it('holds each grant once, removes it, and forgets an object’s grants with it', async () => {
      const s = await make();
      await s.put(rec('g', 'alice', 1));
      const toBob = { stream: 't', to: { owner: 'bob' } };
      const toToken = { stream: '*', to: { token: 'kiosk-1' } };
      expect(await s.addGrant('g', toBob)).toBe(true);
      expect(await s.addGrant('g', toBob)).toBe(false);
      expect(await s.addGrant('g', toToken)).toBe(true);
      expect(await s.grants('g')).toHaveLength(2);
      expect(await s.grants('g')).toEqual(expect.arrayContaining([toBob, toToken]));
      expect(await s.removeGrant('g', toBob)).toBe(true);
      expect(await s.removeGrant('g', toBob)).toBe(false);
      expect(await s.grants('g')).toEqual([toToken]);
      await s.delete('g');
      expect(await s.grants('g')).toEqual([]);
    });
  });
}
