/** The control channel's replay window on disk: what it remembers survives reopening; it is bounded. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteReplayWindow } from './control-replay.ts';

describe('SqliteReplayWindow', () => {
  it('remembers ids across a reopen until they expire, and refuses new ids past its size', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ferry-ctl-replay-')), 'control-replay.db');
    const w = new SqliteReplayWindow(path, 2);
    expect(w.add('a', 2000, 1000)).toBe('added');
    expect(w.add('b', 5000, 1000)).toBe('added');
    expect(w.add('c', 5000, 1000)).toBe('full');
    w.close();
    const again = new SqliteReplayWindow(path, 2);
    expect([again.has('a', 1500), again.has('b', 1500), again.has('c', 1500)]).toEqual([true, true, false]);
    expect(again.has('a', 2001)).toBe(false); // expired: its request's timestamp refuses it from now on
    expect(again.add('c', 6000, 2001)).toBe('added'); // 'a' is forgotten to make room
    expect(again.size).toBe(2);
    again.close();
  });
});
