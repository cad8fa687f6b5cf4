import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OpsError } from '@ferry/rules-host';
import { limitOf } from './health-v1.ts';

describe('limitOf (the ?limit= of the health routes)', () => {
  it('gives an integer within 1..max, or refuses with FERRY_OPS_BAD_QUERY; never anything else', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.integer().map(String), fc.constant(undefined), fc.anything()), fc.integer({ min: 1, max: 100_000 }), (raw, max) => {
        let got: number | undefined;
        try {
          got = limitOf({ limit: raw }, 7, max);
        } catch (e) {
          expect(e).toBeInstanceOf(OpsError);
          expect((e as OpsError).code).toBe('FERRY_OPS_BAD_QUERY');
          return;
        }
        if (raw === undefined) expect(got).toBe(7);
        else {
          expect(Number.isInteger(got)).toBe(true);
          expect(got).toBeGreaterThanOrEqual(1);
          expect(got).toBeLessThanOrEqual(max);
          expect(String(got)).toBe(String(raw).replace(/^0+(?=\d)/, ''));
        }
      }),
    );
  });
});
