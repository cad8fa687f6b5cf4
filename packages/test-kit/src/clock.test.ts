import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.ts';

describe('FakeClock', () => {
  it('fires due timers in deadline order at their own time, including ones scheduled while advancing', () => {
    const c = new FakeClock(0);
    const log: string[] = [];
    c.setTimeout(() => log.push(`b@${c.now()}`), 20);
    c.setTimeout(() => {
      log.push(`a@${c.now()}`);
      c.setTimeout(() => log.push(`c@${c.now()}`), 5);
    }, 10);
    const cancelled = c.setTimeout(() => log.push('never'), 12);
    cancelled.cancel();
    c.advance(19);
    expect(log).toEqual(['a@10', 'c@15']);
    expect(c.pending()).toEqual([1]);
    c.advance(1);
    expect(log).toEqual(['a@10', 'c@15', 'b@20']);
    expect(c.now()).toBe(20);
  });
});

describe('FakeClock as a Clock', () => {
  it('moves monotonic time with advance() only; set() steps the wall clock alone', () => {
    const c = new FakeClock(1_000);
    const fired: number[] = [];
    c.setTimeout(() => fired.push(c.monotonic()), 50);
    c.advance(30);
    expect([c.now(), c.monotonic()]).toEqual([1_030, 30]);
    c.set(500); // a step back, as an NTP correction would make
    expect([c.now(), c.monotonic(), c.pending()]).toEqual([500, 30, [20]]);
    c.set(10_000); // a step forward fires nothing: no time passed
    expect(fired).toEqual([]);
    c.advance(20);
    expect([fired, c.now(), c.monotonic()]).toEqual([[50], 10_020, 50]);
  });

  it('refuses to move time backwards', () => {
    const c = new FakeClock(0);
    expect(() => c.advance(-1)).toThrow(RangeError);
    expect(() => c.advance(Number.NaN)).toThrow(RangeError);
    expect(c.monotonic()).toBe(0);
  });
});
