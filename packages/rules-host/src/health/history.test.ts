import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { OpsError } from './errors.ts';
import { HealthHistory } from './history.ts';

const T0 = Date.UTC(2026, 0, 1); // a whole hour, so buckets line up with the tiers
const file = (): string => join(mkdtempSync(join(tmpdir(), 'ferry-history-')), 'health-history.db');

describe('HealthHistory', () => {
  it('answers means per bucket from raw samples, with null for a bucket without any', () => {
    const h = new HealthHistory(new Database(':memory:'));
    for (let i = 0; i < 10; i++) h.record(T0 + i * 1000, [['eventloop.delay_ms', i]]);
    const r = h.query({ series: 'eventloop.delay_ms', from: T0, to: T0 + 20_000, points: 4 }, T0 + 20_000);
    expect(r).toEqual({
      series: 'eventloop.delay_ms',
      step: 5000,
      points: [
        [T0, 2],
        [T0 + 5000, 7],
        [T0 + 10_000, null],
        [T0 + 15_000, null],
      ],
    });
    expect(h.series()).toEqual(['eventloop.delay_ms']);
    expect(() => h.query({ series: 'readyz', from: T0, to: T0 + 1, points: 1 }, T0)).toThrow(OpsError);
  });

  it('answers long ranges from the 1-minute and 1-hour means, the minute being recorded included', () => {
    const h = new HealthHistory(new Database(':memory:'));
    // readyz down (0) for the first 30 minutes of the first hour, up (1) after, one sample every 10 s for 3 h.
    for (let t = T0; t < T0 + 3 * 3_600_000; t += 10_000) h.record(t, [['readyz', t < T0 + 1_800_000 ? 0 : 1]]);
    const now = T0 + 3 * 3_600_000;
    const hours = h.query({ series: 'readyz', from: T0, to: now, points: 3 }, now);
    expect(hours.step).toBe(3_600_000);
    expect(hours.points).toEqual([
      [T0, 0.5],
      [T0 + 3_600_000, 1],
      [T0 + 7_200_000, 1],
    ]);
    const minutes = h.query({ series: 'readyz', from: T0 + 1_740_000, to: T0 + 1_920_000, points: 3 }, now + 86_400_000 * 2);
    expect(minutes.step).toBe(60_000); // older than the raw retention: the minute tier, whatever the points
    expect(minutes.points.map((p) => p[1])).toEqual([0, 1, 1]);
    // The last minute is still in memory: counted.
    expect(h.query({ series: 'readyz', from: now - 120_000, to: now, points: 2 }, now).points.at(-1)![1]).toBe(1);
  });

  it('rolls up the minute it was recording when the process ended, from the raw samples, on opening again', () => {
    const path = file();
    const h = HealthHistory.open(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    for (let i = 0; i < 30; i++) h.record(T0 + i * 1000, [['probe.latency_ms', 4]]);
    // No close(): as after a kill -9, the pending minute never reached the rollups.
    const again = HealthHistory.open(path);
    const day = 86_400_000;
    const r = again.query({ series: 'probe.latency_ms', from: T0, to: T0 + 60_000, points: 1 }, T0 + 2 * day);
    expect(r.points).toEqual([[T0, 4]]);
    again.close();
  });

  it('keeps at most maxSeries series and counts the samples it could not keep', () => {
    const h = new HealthHistory(new Database(':memory:'), { maxSeries: 2 });
    h.record(T0, [
      ['a', 1],
      ['b', 1],
      ['c', 1],
      ['d', Number.NaN],
    ]);
    expect(h.series()).toEqual(['a', 'b']);
    expect(h.dropped).toBe(1);
  });

  it('applies the retention of each tier and forgets a series with nothing left', () => {
    const h = new HealthHistory(new Database(':memory:'), { retention: { rawMs: 60_000, minuteMs: 3_600_000, hourMs: 7_200_000 } });
    h.record(T0, [['component.rule:gone.up', 1]]);
    for (let t = T0; t <= T0 + 3 * 3_600_000; t += 30_000) h.record(t, [['readyz', 1]]);
    h.prune(T0 + 3 * 3_600_000);
    expect(h.series()).toEqual(['readyz']);
    const now = T0 + 3 * 3_600_000;
    const r = h.query({ series: 'readyz', from: T0, to: now, points: 3 }, now);
    expect(r.points.map((p) => p[1])).toEqual([null, 1, 1]); // the first hour is past the hourly retention
  });

  it('stays small over a simulated week of checks (injected time, no timers), and stops growing once every tier is full', () => {
    const path = file();
    const h = HealthHistory.open(path);
    const periodMs = 30_000;
    const names = ['readyz', 'eventloop.delay_ms', 'component.mqtt.up', ...Array.from({ length: 8 }, (_, i) => `component.rule:cloud-${i}.up`)];
    const sizes: number[] = [];
    let t = T0;
    // Nine days: a week, then two more once the minute means (7 days) are full too.
    for (let day = 0; day < 9; day++) {
      for (let hour = 0; hour < 24; hour++)
        h.batch(() => {
          for (let i = 0; i < 3_600_000 / periodMs; i++, t += periodMs)
            h.record(t, [...names.map((n): [string, number] => [n, n.startsWith('event') ? 5 + (i % 9) : 1]), ['probe.latency_ms', 2.5]]);
        });
      h.checkpoint();
      sizes.push(h.bytes());
    }
    expect(statSync(path).size).toBe(h.bytes());
    expect(sizes[6]!).toBeLessThan(50 * 1024 * 1024);
    // Days 2 to 7 add the minute means only (the raw samples stay at 24 h): less than the first day, raw included.
    for (let d = 1; d < 7; d++) expect(sizes[d]! - sizes[d - 1]!).toBeLessThan(sizes[0]!);
    // Once the minute means reach their 7 days, a day adds only 24 hourly means per series: almost nothing.
    expect(sizes[8]! - sizes[7]!).toBeLessThan(sizes[0]! / 10);
    const r = h.query({ series: 'readyz', from: t - 7 * 86_400_000, to: t, points: 7 }, t);
    expect(r.points.filter((p) => p[1] === 1)).toHaveLength(7);
    h.close();
  }, 120_000); // 300 000 samples: a shared CI machine may take a while
});
