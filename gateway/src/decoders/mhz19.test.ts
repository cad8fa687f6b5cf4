/** @module MH-Z19: the MH-Z19B manual's example frames, command builders, and framer properties (resync, chunking, round trip). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunk, concat, hasAccidentalFrame } from '@ferry/test-kit/bytes';
import { parseHex, toHex } from './hex.ts';
import {
  decodeMhz19Frame,
  encodeMhz19Reading,
  Mhz19Framer,
  MHZ19_FRAME_BYTES,
  mhz19AbcCommand,
  mhz19Checksum,
  mhz19DetectionRangeCommand,
  mhz19ReadCommand,
  mhz19SpanCalibrationCommand,
  mhz19ZeroCalibrationCommand,
  type Mhz19Range,
} from './mhz19.ts';

const bytes = (hex: string): Uint8Array => {
  const r = parseHex(hex);
  if (!r.ok) throw r.error;
  return r.value;
};
const codeOf = (r: { ok: boolean; error?: { code: string } }): string => (r.ok ? 'ok' : (r.error?.code ?? '?'));
const okHex = (r: { ok: true; value: Uint8Array } | { ok: false }): string | false => r.ok && toHex(r.value);
const FORMAT = { header: [0xff], frameBytes: MHZ19_FRAME_BYTES, decode: decodeMhz19Frame };

/** Example frames printed in the Winsen MH-Z19B User's Manual ("Commands", §8 and "Checksum calculation"). */
const DATASHEET = {
  read: 'ff0186000000000079',
  readAnswer: 'ff8602200000000058', // "Return value FF 86 02 20 00 00 00 00 58" = 2*256+32 = 544 ppm
  abcOn: 'ff0179a000000000e6', // "ON this function, send command: FF 01 79 A0 00 00 00 00 E6"
  abcOff: 'ff0179000000000086', // "OFF this function, send command: FF 01 79 00 00 00 00 00 86"
  range2000: 'ff019900000007d08f', // "set 0~2000ppm detection range, send command: FF 01 99 00 00 00 07 D0 8F"
  range10000: 'ff019900000027102f', // "set 0~10000ppm ... FF 01 99 00 00 00 27 10 2F"
} as const;

describe("MH-Z19 checksum and frames (Winsen MH-Z19B User's Manual)", () => {
  it("computes the manual's worked checksum: 0x01 + 0x86 = 0x87, 0xFF - 0x87 = 0x78, + 1 = 0x79", () => {
    expect(mhz19Checksum(bytes(DATASHEET.read))).toBe(0x79);
    for (const hex of Object.values(DATASHEET)) {
      const f = bytes(hex);
      expect(mhz19Checksum(f)).toBe(f[8]);
    }
  });

  it("decodes the manual's 0x86 answer as 544 ppm", () => {
    const r = decodeMhz19Frame(bytes(DATASHEET.readAnswer));
    expect(r).toEqual({ ok: true, value: { type: 'co2', co2Ppm: 544, unofficial: { temperatureC: -40 } } });
  });

  it('reads the unofficial temperature byte (byte 4 - 40)', () => {
    // 0x86 + 0x02 + 0x60 + 0x47 = 0x12F; 0xFF - 0x2F + 1 = 0xD1.
    const r = decodeMhz19Frame(bytes('ff86026047000000d1'));
    expect(r.ok && r.value).toEqual({ type: 'co2', co2Ppm: 608, unofficial: { temperatureC: 31 } });
  });

  it('passes other checksummed frames through as responses', () => {
    // 0x99 + 0x01 = 0x9A; 0xFF - 0x9A + 1 = 0x66.
    const r = decodeMhz19Frame(bytes('ff9901000000000066'));
    expect(r.ok && r.value.type === 'response' && [r.value.command, toHex(r.value.data)]).toEqual([0x99, '010000000000']);
  });

  it('refuses bad checksums, bad start bytes and wrong sizes', () => {
    const bad = decodeMhz19Frame(bytes('ff8602200000000059'));
    expect(codeOf(bad)).toBe('FERRY_DECODE_BAD_CHECKSUM');
    expect(!bad.ok && bad.error.message).toMatch(/0x59.*0x58/);
    expect(codeOf(decodeMhz19Frame(bytes('fe8602200000000058')))).toBe('FERRY_DECODE_BAD_HEADER');
    expect(codeOf(decodeMhz19Frame(bytes('ff86022000000000')))).toBe('FERRY_DECODE_TRUNCATED');
    expect(codeOf(decodeMhz19Frame(bytes('ff860220000000005800')))).toBe('FERRY_DECODE_TRAILING_BYTES');
  });
});

describe('MH-Z19 command builders', () => {
  it("match the manual's example commands byte for byte", () => {
    expect(toHex(mhz19ReadCommand())).toBe(DATASHEET.read);
    expect(toHex(mhz19AbcCommand(true))).toBe(DATASHEET.abcOn);
    expect(toHex(mhz19AbcCommand(false))).toBe(DATASHEET.abcOff);
    expect(okHex(mhz19DetectionRangeCommand(2000))).toBe(DATASHEET.range2000);
    expect(okHex(mhz19DetectionRangeCommand(10000))).toBe(DATASHEET.range10000);
  });

  it('build zero, span and 5000 ppm range commands with correct checksums', () => {
    expect(toHex(mhz19ZeroCalibrationCommand())).toBe('ff0187000000000078'); // 0xFF - 0x88 + 1
    // Span example of the Winsen MH-Z14 manual (same protocol): FF 01 88 07 D0 00 00 00 A0.
    expect(okHex(mhz19SpanCalibrationCommand(2000))).toBe('ff018807d0000000a0');
    expect(okHex(mhz19DetectionRangeCommand(5000))).toBe('ff01990000001388cb'); // 0x01+0x99+0x13+0x88 = 0x135
  });

  it('refuse values outside what the manual allows', () => {
    expect(codeOf(mhz19DetectionRangeCommand(3000 as Mhz19Range))).toBe('FERRY_DECODE_OUT_OF_RANGE');
    expect([0, 65536, 1.5].map((n) => codeOf(mhz19SpanCalibrationCommand(n)))).toEqual(Array(3).fill('FERRY_DECODE_OUT_OF_RANGE'));
    expect([codeOf(encodeMhz19Reading(70000)), codeOf(encodeMhz19Reading(400, -41))]).toEqual(['FERRY_DECODE_OUT_OF_RANGE', 'FERRY_DECODE_OUT_OF_RANGE']);
  });
});

describe('Mhz19Framer', () => {
  it('decodes an answer split at every point', () => {
    const f = bytes(DATASHEET.readAnswer);
    for (let cut = 0; cut <= f.length; cut++) {
      const framer = new Mhz19Framer();
      const out = [...framer.push(f.subarray(0, cut)), ...framer.push(f.subarray(cut))];
      expect(out.map((r) => r.ok && r.value.type === 'co2' && r.value.co2Ppm)).toEqual([544]);
    }
  });

  it('resynchronises after a cut-off answer and counts the bad checksum', () => {
    const f = bytes(DATASHEET.readAnswer);
    const framer = new Mhz19Framer();
    const out = framer.push(concat([bytes('0012'), f.subarray(0, 4), f]));
    expect(out.map(codeOf)).toEqual(['FERRY_DECODE_BAD_CHECKSUM', 'ok']);
    expect(framer.stats).toEqual({ frames: 1, errors: { FERRY_DECODE_BAD_CHECKSUM: 1 }, discardedBytes: 6 });
  });
});

const arbReading = fc.record({ co2: fc.nat(0xffff), temp: fc.integer({ min: -40, max: 215 }) });
const frameOf = ({ co2, temp }: { co2: number; temp: number }): Uint8Array => {
  const r = encodeMhz19Reading(co2, temp);
  if (!r.ok) throw r.error;
  return r.value;
};
const arbGarbage = fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constant(0xff)), { maxLength: 30 }).map((a) => Uint8Array.from(a));

describe('MH-Z19 properties', () => {
  it('the checksum makes bytes 1..8 sum to 0 modulo 256', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 9, maxLength: 9 }), (f) => {
        f[8] = mhz19Checksum(f);
        expect(f.subarray(1).reduce((a, b) => a + b, 0) % 256).toBe(0);
      }),
    );
  });

  it('round trips readings through encodeMhz19Reading / decodeMhz19Frame', () => {
    fc.assert(
      fc.property(arbReading, (r) => {
        expect(decodeMhz19Frame(frameOf(r))).toEqual({ ok: true, value: { type: 'co2', co2Ppm: r.co2, unofficial: { temperatureC: r.temp } } });
      }),
    );
  });

  it('never throws on arbitrary bytes in arbitrary chunks, and buffers less than one frame', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.array(fc.nat(), { maxLength: 8 }), (data, cuts) => {
        const framer = new Mhz19Framer();
        for (const c of chunk(data, cuts)) framer.push(c);
        expect(framer.buffered).toBeLessThan(MHZ19_FRAME_BYTES);
      }),
      { numRuns: 1000 },
    );
  });

  it('recovers every reading, in order, after garbage between frames, however the stream is chunked', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(arbGarbage, arbReading), { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 10 }), (items, cuts) => {
        for (const [i, [garbage, r]] of items.entries()) {
          const rest = concat([frameOf(r), ...items.slice(i + 1).flatMap(([g, x]) => [g, frameOf(x)])]);
          // A 0xFF in garbage followed by 8 bytes with a matching checksum IS a valid frame (1 in 256).
          fc.pre(!hasAccidentalFrame(FORMAT, garbage, rest));
        }
        const stream = concat(items.flatMap(([g, r]) => [g, frameOf(r)]));
        const framer = new Mhz19Framer();
        const ppm = chunk(stream, cuts)
          .flatMap((c) => framer.push(c))
          .flatMap((x) => (x.ok && x.value.type === 'co2' ? [x.value.co2Ppm] : []));
        expect(ppm).toEqual(items.map(([, r]) => r.co2));
      }),
      { numRuns: 500 },
    );
  });
});
