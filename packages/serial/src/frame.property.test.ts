/** Property tests (fast-check): round trip under any chunking; arbitrary bytes never throw; resync after garbage. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SERIAL_ERRORS } from './errors.ts';
import { FrameDecoder, MAX_PAYLOAD, cobsDecode, cobsEncode, encodeFrame, type DecodeEvent } from './frame.ts';

const frameArb = fc.record({
  kind: fc.integer({ min: 0, max: 255 }),
  seq: fc.integer({ min: 0, max: 0xffff }),
  payload: fc.oneof(fc.uint8Array({ maxLength: 600 }), fc.uint8Array({ minLength: MAX_PAYLOAD - 3, maxLength: MAX_PAYLOAD })),
});

/** Splits bytes at the given cut points. */
function chunks(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...at, bytes.length]) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  return out;
}

const feed = (d: FrameDecoder, parts: Uint8Array[]): DecodeEvent[] => parts.flatMap((p) => d.push(p));

describe('framing properties', () => {
  it('COBS round-trips and never emits a zero', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (raw) => {
        const enc = cobsEncode(raw);
        expect(enc.includes(0)).toBe(false);
        expect(cobsDecode(enc)).toEqual(raw);
      }),
      { numRuns: 500 },
    );
  });

  it('frames round-trip under any chunking', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 20 }), (frames, cuts) => {
        const wire = Uint8Array.from(frames.flatMap((f) => [...encodeFrame(f.kind, f.seq, f.payload)]));
        const events = feed(new FrameDecoder(), chunks(wire, cuts));
        expect(events).toEqual(frames.map((f) => ({ type: 'frame', frame: { kind: f.kind, seq: f.seq, payload: f.payload } })));
      }),
      { numRuns: 200 },
    );
  });

  it('arbitrary bytes in arbitrary chunks never throw and only yield catalog errors or frames', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 10_000 }), fc.array(fc.nat(), { maxLength: 30 }), (bytes, cuts) => {
        for (const e of feed(new FrameDecoder(), chunks(bytes, cuts))) {
          if (e.type === 'error') expect(e.code in SERIAL_ERRORS).toBe(true);
          else expect(e.frame.payload.length).toBeLessThanOrEqual(MAX_PAYLOAD);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('after any garbage, a delimiter and a frame, the frame is received intact', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 9000 }), frameArb, fc.array(fc.nat(), { maxLength: 10 }), (garbage, f, cuts) => {
        const wire = Uint8Array.from([...garbage, 0, ...encodeFrame(f.kind, f.seq, f.payload)]);
        const events = feed(new FrameDecoder(), chunks(wire, cuts));
        expect(events.at(-1)).toEqual({ type: 'frame', frame: { kind: f.kind, seq: f.seq, payload: f.payload } });
      }),
      { numRuns: 300 },
    );
  });

  it('a flipped bit in a frame is never accepted as a different frame', () => {
    fc.assert(
      fc.property(frameArb, fc.nat(), fc.integer({ min: 0, max: 7 }), (f, pos, bit) => {
        const wire = encodeFrame(f.kind, f.seq, f.payload);
        const i = pos % (wire.length - 1); // not the delimiter
        const bad = Uint8Array.from(wire);
        bad[i]! ^= 1 << bit;
        for (const e of new FrameDecoder().push(Uint8Array.from([...bad, 0]))) {
          if (e.type === 'frame') expect(e.frame).toEqual({ kind: f.kind, seq: f.seq, payload: f.payload });
        }
      }),
      { numRuns: 500 },
    );
  });
});
