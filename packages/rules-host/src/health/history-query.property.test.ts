import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OpsError } from './errors.ts';
import { DEFAULT_POINTS, DEFAULT_RANGE_MS, MAX_POINTS, MAX_RANGE_MS, parseHistoryQuery } from './history-query.ts';

const NOW = 1_780_000_000_000;
/** A value as a query string may carry it, or anything else a caller might hand over. */
const raw = fc.oneof(
  fc.constant(undefined),
  fc.string(),
  fc.nat().map(String),
  fc.integer({ min: 0, max: NOW * 2 }).map(String),
  fc.constantFrom('readyz', 'probe.latency_ms', 'component.rule:cloud-1.up', '-1', '1e3', ' 5', '0x10', ''),
  fc.anything(),
);

describe('parseHistoryQuery (GET /api/v1/health/history)', () => {
  it('answers a bounded query or FERRY_OPS_BAD_QUERY naming the parameter; never anything else', () => {
    fc.assert(
      fc.property(fc.record({ series: raw, from: raw, to: raw, points: raw }, { requiredKeys: [] }), (q) => {
        let got: ReturnType<typeof parseHistoryQuery>;
        try {
          got = parseHistoryQuery(q, NOW);
        } catch (e) {
          expect(e).toBeInstanceOf(OpsError);
          expect((e as OpsError).code).toBe('FERRY_OPS_BAD_QUERY');
          expect(['series', 'from', 'to', 'points']).toContain((e as OpsError).path);
          return;
        }
        expect(Number.isSafeInteger(got.from) && Number.isSafeInteger(got.to)).toBe(true);
        expect(got.from).toBeGreaterThanOrEqual(0);
        expect(got.from).toBeLessThan(got.to);
        expect(got.to - got.from).toBeLessThanOrEqual(MAX_RANGE_MS);
        expect(got.points).toBeGreaterThanOrEqual(1);
        expect(got.points).toBeLessThanOrEqual(MAX_POINTS);
        expect(got.series).toBe(q.series);
        if (q.to === undefined) expect(got.to).toBe(NOW);
        else expect(String(got.to)).toBe(String(q.to).replace(/^0+(?=\d)/, ''));
        if (q.from === undefined) expect(got.from).toBe(Math.max(0, got.to - DEFAULT_RANGE_MS));
        if (q.points === undefined) expect(got.points).toBe(DEFAULT_POINTS);
        else expect(String(got.points)).toBe(String(q.points).replace(/^0+(?=\d)/, ''));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses what is plainly wrong, naming it', () => {
    const path = (q: Record<string, string>): string | undefined => {
      try {
        parseHistoryQuery(q, NOW);
        return undefined;
      } catch (e) {
        return (e as OpsError).path;
      }
    };
    expect(path({ points: '0' })).toBe('points');
    expect(path({ points: '5001' })).toBe('points');
    expect(path({ from: '10', to: '10' })).toBe('from');
    expect(path({ to: '-5' })).toBe('to');
    expect(path({ series: 'a b' })).toBe('series');
    expect(path({ from: '0', to: String(NOW) })).toBe('from');
    expect(path({ series: 'readyz', from: String(NOW - 1000) })).toBeUndefined();
  });
});
