/** The composite-stream store on SQLite: the ComposeStore contract, a history that survives a reopen, holds each output once and stays bounded. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { composeStoreContract } from '@ferry/compose/store-contract';
import { SqliteComposeStore } from './compose-store.ts';

composeStoreContract('sqlite', () => new SqliteComposeStore(new Database(':memory:')));

const v = (lastUpdate: number, id = `src:${lastUpdate}`) => ({ channels: { a: lastUpdate }, lastUpdate, id });

describe('SqliteComposeStore', () => {
  it('keeps latest values and history across a reopen of the database', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ferry-compose-')), 'cloud.db');
    const a = new Database(file);
    const s = new SqliteComposeStore(a);
    s.setLatest('so/A', v(3));
    for (const t of [1, 2, 3]) s.append('so/A', v(t));
    a.close();
    const again = new SqliteComposeStore(new Database(file));
    expect(again.latest('so/A')).toEqual(v(3));
    expect(again.range('so/A', 0, 10).map((x) => x.lastUpdate)).toEqual([1, 2, 3]);
  });

  it('holds an output once however often it is appended (its id is its idempotency key)', () => {
    const s = new SqliteComposeStore(new Database(':memory:'));
    for (let i = 0; i < 3; i++) s.append('so/B', v(7, 'out:abc'));
    expect(s.range('so/B', 0, 10)).toEqual([v(7, 'out:abc')]);
  });

  it('keeps at most the cap per stream, newest kept', () => {
    const s = new SqliteComposeStore(new Database(':memory:'), 100);
    for (let t = 1; t <= 300; t++) s.append('so/C', v(t));
    const kept = s.range('so/C', 0, 1000).map((x) => x.lastUpdate);
    // Pruned every 64 appends: between the cap and the cap plus one batch, always the newest.
    expect(kept.length).toBeGreaterThanOrEqual(100);
    expect(kept.length).toBeLessThan(100 + 64);
    expect(kept.at(-1)).toBe(300);
    expect(kept[0]).toBe(300 - kept.length + 1);
  });
});
