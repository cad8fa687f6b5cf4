/**
 * @module Property: arbitrary service data for UUID 0xFCD2, sent through noble's real HCI path, never
 * throws out of the source and every BTHome advert ends in exactly one of reading, duplicate or problem.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bthomeAdv, startRig } from '@ferry/test-kit/ble';
import { SPEC_KEY } from '../bthome/fixtures/vectors.ts';

const MACS = ['54:48:E6:8F:80:A5', 'A4:C1:38:00:00:01', 'A4:C1:38:00:00:02'] as const;

/** Fully random bytes, and bytes that start like BTHome v2 (info byte 0x40..0x47) so decoding goes deep. */
const serviceData = fc.oneof(
  fc.uint8Array({ maxLength: 26 }),
  fc.tuple(fc.integer({ min: 0x40, max: 0x47 }), fc.uint8Array({ maxLength: 25 })).map(([info, rest]) => Uint8Array.from([info, ...rest])),
  fc
    .tuple(fc.constantFrom(0x00, 0x01, 0x02, 0x3a, 0x53, 0x54), fc.uint8Array({ maxLength: 12 }))
    .map(([id, rest]) => Uint8Array.from([0x40, 0x00, 0x01, id, ...rest])),
);

describe('BleSource property', () => {
  it('never throws on arbitrary 0xFCD2 service data and accounts for every advert', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ mac: fc.constantFrom(...MACS), data: serviceData, rssi: fc.integer({ min: -127, max: 20 }) }), { maxLength: 25 }),
        async (adverts) => {
          const r = await startRig({ bindKeys: { [MACS[0]]: SPEC_KEY } });
          try {
            for (const a of adverts) expect(r.ctl.advertise(a.mac, bthomeAdv(a.data), { rssi: a.rssi })).toBe(true);
            const c = r.src.health().counters;
            const decodeProblems = r.sink.problems.filter((p) => p.code.startsWith('FERRY_DECODE_')).length;
            expect(r.sink.problems.length).toBe(decodeProblems); // nothing internal, nothing thrown
            expect(c['bthome']).toBe(adverts.length);
            // An advert that stopped at an unknown object id after some objects is both a reading and a problem.
            const partial = r.sink.readings.filter((x) => x.meta?.['unknownObjectId'] !== undefined).length;
            expect((c['decoded'] ?? 0) + (c['duplicatesDropped'] ?? 0) + decodeProblems - partial).toBe(adverts.length);
            expect(r.sink.readings.length).toBe(c['decoded']);
            for (const x of r.sink.readings) {
              expect(MACS).toContain(x.device);
              expect(Object.values(x.values).every((v) => ['number', 'string', 'boolean'].includes(typeof v))).toBe(true);
            }
          } finally {
            await r.src.stop();
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
