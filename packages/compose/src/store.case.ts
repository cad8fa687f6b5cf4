/**
 * @module The contract every ComposeStore keeps (the in-memory one here, SQLite and Redis in the hosts): latest
 * values by stream key, history by `lastUpdate` range, oldest first, keys apart, and `drop`. Run it with the
 * store's factory: `composeStoreContract('sqlite', () => new SqliteComposeStore(db))`.
 */
import { describe, expect, it } from 'vitest';
import type { ComposeStore } from './ports.ts';
import type { StreamValue } from './values.ts';

const v = (lastUpdate: number, x: number, id = `src:${lastUpdate}`): StreamValue => ({ channels: { a: x, s: `v${x}`, arr: [x, true] }, lastUpdate, id });

export function composeStoreContract(name: string, make: () => ComposeStore | Promise<ComposeStore>): void {
  describe(`ComposeStore contract: ${name}`, () => {
    it('keeps the latest value of each stream apart, and replaces it', async () => {
      const s = await make();
      expect(await s.latest('so/A')).toBeUndefined();
      await s.setLatest('so/A', v(1, 1));
      await s.setLatest('so/B', v(5, 5));
      await s.setLatest('so/A', v(2, 2));
      expect(await s.latest('so/A')).toEqual(v(2, 2));
      expect(await s.latest('so/B')).toEqual(v(5, 5));
    });

    it('answers history by lastUpdate, bounds included, oldest first, at most limit', async () => {
      const s = await make();
      for (const t of [10, 20, 30, 40]) await s.append('so/A', v(t, t));
      await s.append('so/B', v(25, 99));
      expect((await s.range('so/A', 20, 30)).map((x) => x.lastUpdate)).toEqual([20, 30]);
      expect((await s.range('so/A', 0, 100, 3)).map((x) => x.lastUpdate)).toEqual([10, 20, 30]);
      expect(await s.range('so/A', 41, 100)).toEqual([]);
      expect((await s.range('so/A', 40, 40))[0]).toEqual(v(40, 40));
      expect((await s.range('so/B', 0, 100)).map((x) => x.channels['a'])).toEqual([99]);
    });

    it('drops a stream: its latest value and its history', async () => {
      const s = await make();
      await s.setLatest('so/A', v(1, 1));
      await s.append('so/A', v(1, 1));
      await s.setLatest('so/B', v(1, 2));
      await s.drop('so/A');
      expect([await s.latest('so/A'), await s.range('so/A', 0, 10)]).toEqual([undefined, []]);
      expect(await s.latest('so/B')).toEqual(v(1, 2));
    });
  });
}
