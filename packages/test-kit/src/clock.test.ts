import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.ts';

describe('FakeClock', () => {
  it('fires due timers in deadline order at their own time, including ones scheduled while advancing', () => {
    const c = new FakeClock(0);
    const log: string[] = [];
    c.setTimeout(() => log.push(`b@${c.now()}`), 20);
    c.setTimeout(() => { log.push(`a@${c.now()}`); c.setTimeout(() => log.push(`c@${c.now()}`), 5); }, 10);
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
