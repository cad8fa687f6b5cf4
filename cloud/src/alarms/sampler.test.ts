/** The metric sampler against a real prom-client registry: gauges and counters by labels, histogram aggregates and quantiles, and the names it refuses. */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { metricProblem, sampleMetric } from './sampler.ts';

describe('metric sampler', () => {
  const r = new Registry();
  const g = new Gauge({ name: 'g_depth', help: 'h', labelNames: ['q'], registers: [r] });
  const c = new Counter({ name: 'c_total', help: 'h', registers: [r] });
  const h = new Histogram({ name: 'h_seconds', help: 'h', buckets: [0.1, 1, 10], registers: [r] });
  g.set({ q: 'a' }, 3);
  g.set({ q: 'b' }, 4);
  c.inc(5);
  for (const v of [0.05, 0.5, 0.5, 5]) h.observe(v);

  it('sums the series a rule selects, and reads counters', async () => {
    expect(await sampleMetric(r, 'g_depth')).toBe(7);
    expect(await sampleMetric(r, 'g_depth', { q: 'b' })).toBe(4);
    expect(await sampleMetric(r, 'g_depth', { q: 'zzz' })).toBeUndefined();
    expect(await sampleMetric(r, 'c_total')).toBe(5);
  });

  it('reads histogram aggregates and interpolated quantiles', async () => {
    expect(await sampleMetric(r, 'h_seconds:count')).toBe(4);
    expect(await sampleMetric(r, 'h_seconds:sum')).toBeCloseTo(6.05);
    expect(await sampleMetric(r, 'h_seconds:avg')).toBeCloseTo(6.05 / 4);
    // rank 2 of 4 lies in (0.1, 1]: one below it, two in it -> half-way through the bucket.
    expect(await sampleMetric(r, 'h_seconds:p50')).toBeCloseTo(0.55);
    expect(await sampleMetric(r, 'h_seconds:p99')).toBeGreaterThan(1);
  });

  it('says why a name cannot be sampled', () => {
    expect(metricProblem(r, 'g_depth')).toBeUndefined();
    expect(metricProblem(r, 'h_seconds:p99')).toBeUndefined();
    expect(metricProblem(r, 'nope')).toMatch(/no metric nope/);
    expect(metricProblem(r, 'h_seconds')).toMatch(/histogram/);
    expect(metricProblem(r, 'g_depth:p99')).toMatch(/not a histogram/);
  });
});
