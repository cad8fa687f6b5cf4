import { afterEach, describe, expect, it } from 'vitest';
import { EventLoopWatch } from './eventloop.ts';

const block = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

let watch: EventLoopWatch | undefined;
afterEach(() => watch?.stop());

describe('EventLoopWatch', () => {
  it('reports a stall once, even when the sample runs before its own timer, and its end after a quiet spell', () => {
    let now = 1_000_000;
    const seen: string[] = [];
    watch = new EventLoopWatch({
      stallMs: 200,
      quietMs: 5000,
      now: () => now,
      onStall: (ms) => seen.push(`stall ${ms >= 250}`),
      onRecovered: () => seen.push('over'),
    });
    watch.start();
    block(300); // no timer of the watch ran meanwhile: the sample itself finds the delay
    expect(watch.sample()).toBeGreaterThanOrEqual(250);
    expect(seen).toEqual(['stall true']);
    block(300); // another, inside the same stall: not reported again
    watch.sample();
    expect(watch.stalled).toBe(true);
    now += 4000;
    expect(watch.sample()).toBeLessThan(200);
    expect(seen).toEqual(['stall true']);
    now += 1500; // 5.5 s since the last stall seen
    watch.sample();
    expect(seen).toEqual(['stall true', 'over']);
    expect(watch.stalled).toBe(false);
  });
});
