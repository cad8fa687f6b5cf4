import { describe, expect, it } from 'vitest';
import { GatewaySessions } from './sessions.ts';

describe('GatewaySessions', () => {
  it('a session expires after its time, and is forgotten then', () => {
    let now = 1000;
    const s = new GatewaySessions({ nowMs: () => now, ttlMs: 60_000 });
    const { id, expiresMs } = s.open();
    expect(expiresMs).toBe(61_000);
    expect(s.valid(id)).toBe(true);
    now = 60_999;
    expect(s.valid(id)).toBe(true);
    now = 61_000;
    expect(s.valid(id)).toBe(false);
    expect(s.size).toBe(0);
  });

  it('holds at most `max`: one more closes the oldest', () => {
    const s = new GatewaySessions({ max: 3 });
    const ids = [s.open().id, s.open().id, s.open().id, s.open().id];
    expect(ids.map((id) => s.valid(id))).toEqual([false, true, true, true]);
    expect(s.size).toBe(3);
    expect(new Set(ids).size).toBe(4);
  });

  it('knows no undefined, unknown or closed id', () => {
    const s = new GatewaySessions();
    const { id } = s.open();
    expect(s.valid(undefined)).toBe(false);
    expect(s.valid('nope')).toBe(false);
    s.close(id);
    expect(s.valid(id)).toBe(false);
  });
});
