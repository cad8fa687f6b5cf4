/**
 * @module test:chaos: every attack of attacks.ts against one running cloud and gateway, in turn. After each the
 * attack's own promise holds (docs/limits.md) and the system still answers the reference call; at the end every
 * reference message was stored exactly once. Latency under attack is measured by bench/chaos.ts, never here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATTACKS } from './attacks.ts';
import { startSystem, type System } from './system.ts';
import { getAs } from '@ferry/test-kit/http';

let sys: System;
beforeAll(async () => {
  sys = await startSystem({ deviceRate: { perSecond: 1000, burst: 200 } });
}, 30_000);
afterAll(async () => {
  await sys.stop();
});

describe('chaos: hostile and faulty inputs against a running cloud and gateway', () => {
  for (const attack of ATTACKS) {
    it(`${attack.name}: refused as documented; the reference call still answers`, async () => {
      expect(await attack.run(sys)).toBeUndefined();
      await sys.reference();
      expect((await getAs(`${sys.httpUrl}/health`)).status).toBe(200);
    }, 60_000);
  }

  it('every reference message was stored once', async () => {
    const points = await sys.cloud.ingest.series.query('ref/tel', 0, Number.MAX_SAFE_INTEGER);
    expect(points.map((p) => p.sq).sort((a, b) => a - b)).toEqual(Array.from({ length: sys.referenceSent() }, (_, i) => i));
  });
});
