/** @module BLE replay counters survive a crash: written through as they advance, not saved once a minute. */
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReplayGuard } from '../bthome/replay-guard.ts';
import { ReplayStore } from './replay-store.ts';

const MAC = '54:48:E6:8F:80:A5';

describe('ReplayStore', () => {
  // Regression: counters were saved every 60 s and at a clean exit, so an advert accepted just before a crash
  // (kill -9, power loss of the process) could be replayed after the restart.
  it('a counter accepted before a crash is refused after it, without a clean shutdown', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ferry-replay-')), 'ble-replay.db');
    const store = new ReplayStore({ path });
    const guard = new ReplayGuard(store.entries(), { onAdvance: (m, c) => store.save(m, c) });
    expect(guard.accept(MAC, 41).ok).toBe(true);
    // No close(), no exit handler: a second process opens the same file as after a kill -9.
    const after = new ReplayStore({ path });
    const restarted = new ReplayGuard(after.entries());
    const replayed = restarted.accept(MAC, 41);
    expect(replayed.ok ? 'accepted' : replayed.error.code).toBe('FERRY_DECODE_REPLAYED');
    expect(restarted.accept(MAC, 42).ok).toBe(true);
  });

  it('a counter never moves down in the store, and the old JSON file is imported once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-replay-'));
    writeFileSync(join(dir, 'ble-replay.json'), JSON.stringify([[MAC, 7]]));
    const store = new ReplayStore({ path: join(dir, 'ble-replay.db'), legacyJson: join(dir, 'ble-replay.json') });
    expect(store.entries()).toEqual([[MAC, 7]]);
    expect(existsSync(join(dir, 'ble-replay.json'))).toBe(false);
    store.save(MAC, 3);
    store.save(MAC, 9);
    expect(store.entries()).toEqual([[MAC, 9]]);
  });

  it('a failing write is counted and reported, never thrown into the source', () => {
    const errors: string[] = [];
    const store = new ReplayStore({ path: ':memory:', onError: (e) => errors.push(e.message) });
    store.close(); // every later write fails
    expect(() => store.save(MAC, 1)).not.toThrow();
    expect(store.failures).toBe(1);
    expect(errors.length).toBe(1);
  });
});
