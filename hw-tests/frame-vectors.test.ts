/** The C framing (firmware/host/src/frame.c, as the ferry-frame-vectors filter) against the shared fixtures the TS codec passes too. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { frameFixtures } from '@ferry/serial/fixtures';
import { FrameDecoder, SERIAL_ERRORS, encodeFrame } from '@ferry/serial';
import { FRAME_VECTORS_BIN } from './src/paths.ts';

const run = (lines: string[]): string[] => {
  const r = spawnSync(FRAME_VECTORS_BIN, [], { input: `${lines.join('\n')}\n`, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`ferry-frame-vectors failed: ${r.stderr}`);
  return r.stdout.trimEnd().split('\n');
};

describe('C framing = shared fixtures', () => {
  const { valid, streams } = frameFixtures();
  it('encodes every valid frame to the fixture bytes', () => {
    expect(run(valid.map((v) => `enc ${v.kind} ${v.seq} ${v.payload || '-'}`))).toEqual(valid.map((v) => v.wire));
  });
  it('decodes every valid frame', () => {
    const out = run(valid.map((v) => `dec ${v.wire}`));
    expect(out).toEqual(valid.flatMap((v) => [`frame ${v.kind} ${v.seq} ${v.payload || '-'}`, 'end']));
  });
  it('reads every stream to the same events (errors by number)', () => {
    const out = run(streams.map((s) => `dec ${s.wire || '-'}`));
    const want = streams.flatMap((s) => [
      ...s.events.map((e) =>
        'error' in e ? `error ${SERIAL_ERRORS[e.error as keyof typeof SERIAL_ERRORS].num}` : `frame ${e.frame.kind} ${e.frame.seq} ${e.frame.payload || '-'}`,
      ),
      'end',
    ]);
    expect(out).toEqual(want);
  });
});

describe('C framing = TS framing on arbitrary input (differential)', () => {
  it('random bytes, random frames and garbage decode to the same events in both', () => {
    // Deterministic pseudo-random cases (xorshift32) so a failure reproduces.
    let s = 0x2545f491;
    const next = (): number => {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      return s;
    };
    const cases: Uint8Array[] = [];
    for (let c = 0; c < 300; c++) {
      const parts: number[] = [];
      const n = next() % 6;
      for (let p = 0; p < n; p++) {
        const r = next() % 4;
        if (r === 0) parts.push(0);
        else if (r === 1) for (let i = next() % 300; i > 0; i--) parts.push(next() & 0xff);
        else if (r === 2) for (let i = next() % 5000; i > 0; i--) parts.push((next() & 0xff) | 1);
        else
          parts.push(
            ...encodeFrame(
              next() & 0xff,
              next() & 0xffff,
              Uint8Array.from({ length: next() % 600 }, () => next() & 0xff),
            ),
          );
      }
      cases.push(Uint8Array.from(parts));
    }
    const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
    const out = run(cases.map((b) => `dec ${b.length ? hex(b) : '-'}`));
    const want = cases.flatMap((b) => [
      ...new FrameDecoder()
        .push(b)
        .map((e) =>
          e.type === 'error'
            ? `error ${SERIAL_ERRORS[e.code].num}`
            : `frame ${e.frame.kind} ${e.frame.seq} ${e.frame.payload.length ? hex(e.frame.payload) : '-'}`,
        ),
      'end',
    ]);
    expect(out).toEqual(want);
    expect(want.filter((l) => l.startsWith('frame')).length).toBeGreaterThan(50);
    expect(want.filter((l) => l.startsWith('error')).length).toBeGreaterThan(50);
  });
});
