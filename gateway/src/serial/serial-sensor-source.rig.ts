/** @module Test support for the SerialSensorSource tests: frame builders, a recording sink, and a wait for the mock binding's callbacks. */
import { encodePmsFrame, type PmsReading } from '../decoders/pms5003.ts';
import type { Reading, SourceProblem, SourceSink } from '../sources/types.ts';

export const PATH = '/dev/ttyFAKE0';

export const pms = (pm2_5: number, extra: Partial<PmsReading> = {}): Uint8Array => {
  const r = encodePmsFrame({
    pm1_0_cf1: 5,
    pm2_5_cf1: pm2_5 + 1,
    pm10_cf1: 9,
    pm1_0_atm: 5,
    pm2_5_atm: pm2_5,
    pm10_atm: 9,
    particles_0_3um: 1014,
    particles_0_5um: 282,
    particles_1_0um: 45,
    particles_2_5um: 3,
    particles_5_0um: 1,
    particles_10um: 0,
    reserved: 0x9700,
    ...extra,
  });
  if (!r.ok) throw r.error;
  return r.value;
};
export const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));
export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Lets the mock binding's nextTick/promise chains run (they are not timers, so the FakeClock does not drive them). */
export const settle = async (rounds = 20): Promise<void> => {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
};

export interface Recorder extends SourceSink {
  readonly readings: Reading[];
  readonly problems: SourceProblem[];
  codes(): string[];
}
export const recorder = (): Recorder => {
  const readings: Reading[] = [];
  const problems: SourceProblem[] = [];
  return {
    readings,
    problems,
    reading: (r) => readings.push(r),
    signed: () => {
      throw new Error('serial sensors never forward signed messages');
    },
    problem: (p) => problems.push(p),
    codes: () => problems.map((p) => p.code),
  };
};
