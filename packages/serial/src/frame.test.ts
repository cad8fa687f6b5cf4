/** The TS framing against independent known values and the shared fixtures (the C codec reads the same file in hw-tests). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SERIAL_ERRORS } from './errors.ts';
import { FIXTURES_FILE, frameFixtures } from './fixtures.ts';
import { FrameDecoder, KIND, MAX_ENCODED, cobsDecode, cobsEncode, crc32, encodeFrame, type DecodeEvent } from './frame.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const asJson = (e: DecodeEvent): unknown =>
  e.type === 'frame' ? { frame: { kind: e.frame.kind, seq: e.frame.seq, payload: hex(e.frame.payload) } } : { error: e.code };

describe('CRC-32/ISO-HDLC', () => {
  it('has the catalogue check value for "123456789"', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
});

describe('COBS', () => {
  // Examples from Cheshire & Baker's scheme as listed on the COBS Wikipedia page (examples 1-7).
  const cases: [number[], number[]][] = [
    [[0x00], [0x01, 0x01]],
    [
      [0x00, 0x00],
      [0x01, 0x01, 0x01],
    ],
    [
      [0x00, 0x11, 0x00],
      [0x01, 0x02, 0x11, 0x01],
    ],
    [
      [0x11, 0x22, 0x00, 0x33],
      [0x03, 0x11, 0x22, 0x02, 0x33],
    ],
    [
      [0x11, 0x22, 0x33, 0x44],
      [0x05, 0x11, 0x22, 0x33, 0x44],
    ],
    [
      [0x11, 0x00, 0x00, 0x00],
      [0x02, 0x11, 0x01, 0x01, 0x01],
    ],
  ];
  it.each(cases)('%j <-> %j', (raw, enc) => {
    expect([...cobsEncode(Uint8Array.from(raw))]).toEqual(enc);
    expect([...cobsDecode(Uint8Array.from(enc))!]).toEqual(raw);
  });
  it('254 non-zero bytes make one full block and no empty one after it', () => {
    const raw = Uint8Array.from({ length: 254 }, (_, i) => i + 1);
    const enc = cobsEncode(raw);
    expect(enc.length).toBe(255);
    expect(enc[0]).toBe(0xff);
    expect(cobsDecode(enc)).toEqual(raw);
  });
  it('255 non-zero bytes open a second block', () => {
    const raw = Uint8Array.from({ length: 255 }, (_, i) => (i % 255) + 1);
    expect([...cobsEncode(raw).subarray(255)]).toEqual([0x02, raw[254]]);
  });
});

describe('shared fixtures (fixtures/frames.json)', () => {
  const { valid, streams } = frameFixtures();
  it('cover the cases they claim', () => {
    expect(valid.length).toBeGreaterThanOrEqual(8);
    expect(new Set(streams.flatMap((s) => s.events.flatMap((e) => ('error' in e ? [e.error] : []))))).toEqual(
      new Set(['FERRY_SERIAL_COBS', 'FERRY_SERIAL_CRC', 'FERRY_SERIAL_TOO_SHORT', 'FERRY_SERIAL_TOO_LARGE', 'FERRY_SERIAL_VERSION']),
    );
  });
  it.each(valid.map((v) => [v.name, v] as const))('encodes and decodes: %s', (_, v) => {
    expect(hex(encodeFrame(v.kind, v.seq, unhex(v.payload)))).toBe(v.wire);
    expect(new FrameDecoder().push(unhex(v.wire)).map(asJson)).toEqual([{ frame: { kind: v.kind, seq: v.seq, payload: v.payload } }]);
  });
  it.each(streams.map((s) => [s.name, s] as const))('stream: %s', (_, s) => {
    expect(new FrameDecoder().push(unhex(s.wire)).map(asJson)).toEqual(s.events);
    for (const e of s.events) if ('error' in e) expect(e.error in SERIAL_ERRORS).toBe(true);
  });
  it('the fixtures file is valid JSON with a generator note', () => {
    expect(readFileSync(FIXTURES_FILE, 'utf8')).toContain('make-fixtures.ts');
  });
});

describe('limits', () => {
  it('refuses to encode a payload past the maximum', () => {
    expect(() => encodeFrame(KIND.ACK, 1, new Uint8Array(5000))).toThrow(RangeError);
  });
  it('reports an oversized frame once and recovers', () => {
    const d = new FrameDecoder();
    const events = [...d.push(new Uint8Array(MAX_ENCODED * 3).fill(7)), ...d.push(Uint8Array.from([0])), ...d.push(encodeFrame(KIND.ACK, 2))];
    expect(events.map((e) => (e.type === 'error' ? e.code : e.frame.kind))).toEqual(['FERRY_SERIAL_TOO_LARGE', KIND.ACK]);
  });
});
