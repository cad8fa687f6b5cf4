/** @module PMS5003: frame decoding, Appendix II commands, and framer properties (resync after garbage, chunking, round trip). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunk, concat, hasAccidentalFrame } from '@ferry/test-kit/bytes';
import { parseHex, toHex } from './hex.ts';
import {
  decodePmsFrame,
  encodePmsFrame,
  Pms5003Framer,
  PMS_FRAME_BYTES,
  PMS_HEADER,
  pmsActiveModeCommand,
  pmsCommand,
  pmsPassiveModeCommand,
  pmsReadCommand,
  pmsSleepCommand,
  pmsWakeCommand,
  type PmsReading,
} from './pms5003.ts';

const bytes = (hex: string): Uint8Array => {
  const r = parseHex(hex);
  if (!r.ok) throw r.error;
  return r.value;
};

/** Hand-summed frame: header 0x42+0x4D+0x1C = 0xAB, data bytes 44 + 325 + 0x97 -> check code 0x02B3. */
const FRAME = '424d001c 0005 0008 0009 0005 0008 0009 03f6 011a 002d 0003 0001 0000 9700 02b3';
const READING: PmsReading = {
  pm1_0_cf1: 5,
  pm2_5_cf1: 8,
  pm10_cf1: 9,
  pm1_0_atm: 5,
  pm2_5_atm: 8,
  pm10_atm: 9,
  particles_0_3um: 1014,
  particles_0_5um: 282,
  particles_1_0um: 45,
  particles_2_5um: 3,
  particles_5_0um: 1,
  particles_10um: 0,
  reserved: 0x9700,
};
const FORMAT = { header: PMS_HEADER, frameBytes: PMS_FRAME_BYTES, decode: decodePmsFrame };
const codeOf = (r: { ok: boolean; error?: { code: string } }): string => (r.ok ? 'ok' : (r.error?.code ?? '?'));

describe('PMS5003 frame (datasheet Appendix I)', () => {
  it('decodes the 13 big-endian data words of a frame whose check code is the sum of the first 30 bytes', () => {
    expect(decodePmsFrame(bytes(FRAME))).toEqual({ ok: true, value: READING });
  });

  it('encodes a reading to the same bytes', () => {
    const r = encodePmsFrame(READING);
    expect(r.ok && toHex(r.value)).toBe(FRAME.replaceAll(' ', ''));
  });

  it('refuses a bad checksum, a bad length field, a bad header and wrong sizes', () => {
    const f = bytes(FRAME);
    const badSum = f.slice();
    badSum[31] = 0xb4;
    const bad = decodePmsFrame(badSum);
    expect(codeOf(bad)).toBe('FERRY_DECODE_BAD_CHECKSUM');
    expect(!bad.ok && bad.error.message).toMatch(/0x2b4.*0x2b3/);
    const pms3003 = f.slice();
    pms3003[3] = 0x14; // 20: the PMS3003's 24-byte frame length
    expect(codeOf(decodePmsFrame(pms3003))).toBe('FERRY_DECODE_BAD_LENGTH');
    const header = f.slice();
    header[1] = 0x4e;
    expect(codeOf(decodePmsFrame(header))).toBe('FERRY_DECODE_BAD_HEADER');
    expect(codeOf(decodePmsFrame(f.subarray(0, 31)))).toBe('FERRY_DECODE_TRUNCATED');
    expect(codeOf(decodePmsFrame(concat([f, new Uint8Array(1)])))).toBe('FERRY_DECODE_TRAILING_BYTES');
    expect(codeOf(encodePmsFrame({ ...READING, pm10_atm: 65536 }))).toBe('FERRY_DECODE_OUT_OF_RANGE');
  });
});

describe('PMS5003 passive-mode commands (datasheet Appendix II)', () => {
  it('builds 42 4D CMD DATAH DATAL LRCH LRCL with LRC = sum of the first five bytes', () => {
    expect(toHex(pmsReadCommand())).toBe('424de2000001' + '71');
    expect(toHex(pmsPassiveModeCommand())).toBe('424de1000001' + '70');
    expect(toHex(pmsActiveModeCommand())).toBe('424de1000101' + '71');
    expect(toHex(pmsSleepCommand())).toBe('424de4000001' + '73');
    expect(toHex(pmsWakeCommand())).toBe('424de4000101' + '74');
    expect(toHex(pmsCommand(0xff, 0xffff))).toBe('424dffffff' + '038c'); // 0x42+0x4D+3*0xFF = 908 = 0x38C
  });
});

describe('Pms5003Framer', () => {
  it('decodes a frame split at every possible point', () => {
    const f = bytes(FRAME);
    for (let cut = 0; cut <= f.length; cut++) {
      const framer = new Pms5003Framer();
      const out = [...framer.push(f.subarray(0, cut)), ...framer.push(f.subarray(cut))];
      expect(out).toEqual([{ ok: true, value: READING }]);
      expect(framer.buffered).toBe(0);
    }
  });

  it('skips garbage, including lone 0x42 bytes, then decodes', () => {
    const framer = new Pms5003Framer();
    const out = framer.push(concat([bytes('00ff42004d42'), bytes(FRAME)]));
    expect(out.map(codeOf)).toEqual(['ok']);
    expect(framer.stats).toEqual({ frames: 1, errors: {}, discardedBytes: 6 });
  });

  it('treats start bytes inside garbage as a candidate frame, refuses it, and moves on by one byte', () => {
    const framer = new Pms5003Framer();
    const out = framer.push(concat([bytes('00ff424d4d42'), bytes(FRAME)]));
    expect(out.map(codeOf)).toEqual(['FERRY_DECODE_BAD_LENGTH', 'ok']);
    expect(framer.stats.discardedBytes).toBe(6);
  });

  it('resynchronises inside a cut-off frame: reports its bad checksum, then finds the frame within it', () => {
    const f = bytes(FRAME);
    const framer = new Pms5003Framer();
    const out = framer.push(concat([f.subarray(0, 10), f, f]));
    expect(out.map(codeOf)).toEqual(['FERRY_DECODE_BAD_CHECKSUM', 'ok', 'ok']);
    expect(framer.stats).toEqual({ frames: 2, errors: { FERRY_DECODE_BAD_CHECKSUM: 1 }, discardedBytes: 10 });
  });

  it('counts bad checksums and bad lengths without throwing, and reset() drops a partial frame', () => {
    const f = bytes(FRAME);
    const corrupt = f.slice();
    corrupt[20] = (corrupt[20] ?? 0) ^ 0x01;
    const framer = new Pms5003Framer();
    framer.push(concat([corrupt, bytes('424d0014'), new Uint8Array(40), f.subarray(0, 12)]));
    expect(framer.stats.errors).toEqual({ FERRY_DECODE_BAD_CHECKSUM: 1, FERRY_DECODE_BAD_LENGTH: 1 });
    expect(framer.buffered).toBe(12);
    framer.reset();
    expect(framer.push(f).map(codeOf)).toEqual(['ok']);
  });
});

const arbReading: fc.Arbitrary<PmsReading> = fc.record({
  pm1_0_cf1: fc.nat(0xffff),
  pm2_5_cf1: fc.nat(0xffff),
  pm10_cf1: fc.nat(0xffff),
  pm1_0_atm: fc.nat(0xffff),
  pm2_5_atm: fc.nat(0xffff),
  pm10_atm: fc.nat(0xffff),
  particles_0_3um: fc.nat(0xffff),
  particles_0_5um: fc.nat(0xffff),
  particles_1_0um: fc.nat(0xffff),
  particles_2_5um: fc.nat(0xffff),
  particles_5_0um: fc.nat(0xffff),
  particles_10um: fc.nat(0xffff),
  reserved: fc.nat(0xffff),
});
const frameOf = (r: PmsReading): Uint8Array => {
  const e = encodePmsFrame(r);
  if (!e.ok) throw e.error;
  return e.value;
};
/** Garbage, biased towards start bytes so that fake headers actually occur. */
const arbGarbage = fc
  .array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x42, 0x4d, 0x00, 0x1c)), { maxLength: 48 })
  .map((a) => Uint8Array.from(a));

describe('PMS5003 properties', () => {
  it('never throws on arbitrary bytes in arbitrary chunks, and buffers less than one frame', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(), { maxLength: 8 }), (data, cuts) => {
        const framer = new Pms5003Framer();
        for (const c of chunk(data, cuts)) framer.push(c);
        expect(framer.buffered).toBeLessThan(PMS_FRAME_BYTES);
      }),
      { numRuns: 1000 },
    );
  });

  it('round trips readings through encodePmsFrame / decodePmsFrame', () => {
    fc.assert(
      fc.property(arbReading, (r) => {
        expect(decodePmsFrame(frameOf(r))).toEqual({ ok: true, value: r });
      }),
    );
  });

  it('recovers every frame, in order, after garbage between frames, however the stream is chunked', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(arbGarbage, arbReading), { maxLength: 5 }), fc.array(fc.nat(), { maxLength: 10 }), (items, cuts) => {
        for (const [i, [garbage, r]] of items.entries()) {
          const rest = concat([frameOf(r), ...items.slice(i + 1).flatMap(([g, x]) => [g, frameOf(x)])]);
          fc.pre(!hasAccidentalFrame(FORMAT, garbage, rest));
        }
        const stream = concat(items.flatMap(([g, r]) => [g, frameOf(r)]));
        const framer = new Pms5003Framer();
        const readings = chunk(stream, cuts)
          .flatMap((c) => framer.push(c))
          .flatMap((x) => (x.ok ? [x.value] : []));
        expect(readings).toEqual(items.map(([, r]) => r));
      }),
      { numRuns: 500 },
    );
  });

  it('gives the same results whole or chunked, for any stream', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(arbGarbage, arbReading.map(frameOf)), { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 10 }), (parts, cuts) => {
        const stream = concat(parts);
        const whole = new Pms5003Framer().push(stream);
        const framer = new Pms5003Framer();
        const pieces = chunk(stream, cuts).flatMap((c) => framer.push(c));
        expect(pieces.map(codeOf)).toEqual(whole.map(codeOf));
        expect(pieces.flatMap((x) => (x.ok ? [x.value] : []))).toEqual(whole.flatMap((x) => (x.ok ? [x.value] : [])));
      }),
      { numRuns: 500 },
    );
  });
});
