/** @module SerialSensorSource over @serialport/binding-mock and a FakeClock with an MH-Z19: polling, timeouts, and plausibility beyond the checksum. */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '@ferry/test-kit/clock';
import { CableBinding } from '@ferry/test-kit/serial';
import { encodeMhz19Reading, mhz19Checksum, mhz19ReadCommand } from '../decoders/mhz19.ts';
import { SerialSensorSource, type SerialSensorSourceOptions } from './serial-sensor-source.ts';
import { concat, hex, PATH, type Recorder, recorder, settle } from './serial-sensor-source.rig.ts';

const SENSOR_ANSWER_544 = Uint8Array.from([0xff, 0x86, 0x02, 0x20, 0x00, 0x00, 0x00, 0x00, 0x58]); // MH-Z19B manual example

const co2 = (ppm: number, t?: number): Uint8Array => {
  const r = encodeMhz19Reading(ppm, t);
  if (!r.ok) throw r.error;
  return r.value;
};

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

async function setup(
  o: Partial<SerialSensorSourceOptions> & Pick<SerialSensorSourceOptions, 'kind'>,
  plugged = true,
  prepare?: (binding: CableBinding, sink: Recorder) => void,
) {
  const binding = new CableBinding();
  const clock = new FakeClock();
  const sink = recorder();
  if (plugged) binding.plug(PATH);
  prepare?.(binding, sink);
  const source = new SerialSensorSource({ path: PATH, binding, clock, ...o });
  stops.push(() => source.stop());
  await source.start(sink);
  await settle();
  const send = async (bytes: Uint8Array): Promise<void> => {
    expect(binding.emit(PATH, bytes)).toBe(true);
    await settle();
  };
  return { binding, clock, sink, source, send };
}

describe('MH-Z19 polling', () => {
  it("sends FF 01 86 … 79 at once and every intervalMs; the manual's answer FF 86 02 20 … 58 is 544 ppm", async () => {
    const { binding, clock, sink, source, send } = await setup({ kind: 'mhz19', intervalMs: 5000 });
    expect((binding.writes.get(PATH) ?? []).map(hex)).toEqual(['ff0186000000000079']);
    await send(SENSOR_ANSWER_544);
    expect(sink.readings).toEqual([
      {
        device: `${PATH}#mhz19`,
        kind: 'mhz19',
        atMs: clock.now(),
        // Byte 4 is 0 in the manual's example: no temperature, rather than a made-up -40 °C.
        values: { co2: 544 },
        meta: { port: PATH, mode: 'passive' },
      },
    ]);
    clock.advance(4999);
    await settle();
    expect(binding.writes.get(PATH)?.length).toBe(1);
    clock.advance(1);
    await settle();
    expect(binding.writes.get(PATH)?.length).toBe(2);
    await send(co2(1234, 27));
    expect(sink.readings[1]).toMatchObject({ values: { co2: 1234 }, meta: { temperature_unofficial_c: 27 } });
    expect(sink.problems).toEqual([]);
    expect(source.health().counters).toMatchObject({ requests: 2, readings: 2, timeouts: 0 });
  });

  it('reports FERRY_GW_SERIAL_NO_ANSWER when the answer does not come within responseTimeoutMs, and recovers', async () => {
    const { binding, clock, sink, source } = await setup({ kind: 'mhz19', intervalMs: 5000, responseTimeoutMs: 800 });
    clock.advance(799);
    expect(sink.problems).toEqual([]);
    clock.advance(1);
    expect(sink.codes()).toEqual(['FERRY_GW_SERIAL_NO_ANSWER']);
    expect(source.health()).toMatchObject({ up: true, counters: { timeouts: 1, requests: 1 } });
    binding.onWrite = (path, bytes) => {
      if (hex(bytes) === hex(mhz19ReadCommand())) binding.emit(path, co2(600));
    };
    clock.advance(4200);
    await settle();
    clock.advance(800);
    expect(sink.readings.map((r) => r.values['co2'])).toEqual([600]);
    expect(source.health().counters).toMatchObject({ timeouts: 1, requests: 2 });
  });

  it('reassembles an answer split at every position, skipping garbage before it', async () => {
    const { clock, sink, send } = await setup({ kind: 'mhz19', intervalMs: 5000 });
    const noisy = concat(Uint8Array.from([0x00, 0xff, 0x12]), SENSOR_ANSWER_544);
    for (let cut = 1; cut < noisy.length; cut++) {
      await send(noisy.subarray(0, cut));
      await send(noisy.subarray(cut));
      clock.advance(5000); // the next read request
      await settle();
    }
    expect(sink.readings.map((r) => r.values['co2'])).toEqual(Array.from({ length: 11 }, () => 544));
  });

  it('counts a bad checksum and ignores non-measurement frames', async () => {
    const { sink, source, send } = await setup({ kind: 'mhz19', intervalMs: 5000 });
    const bad = Uint8Array.from(SENSOR_ANSWER_544);
    bad[3] = 0x21;
    const ack = Uint8Array.from([0xff, 0x79, 0, 0, 0, 0, 0, 0, 0x87]); // checksummed, not a 0x86 answer
    await send(concat(bad, ack, SENSOR_ANSWER_544));
    expect(sink.readings.map((r) => r.values['co2'])).toEqual([544]);
    expect(sink.codes()).toEqual(['FERRY_DECODE_BAD_CHECKSUM']);
    expect(source.health().counters).toMatchObject({ bad_checksum: 1, other_frames: 1, readings: 1 });
  });
});

describe('MH-Z19 plausibility beyond the 8-bit checksum', () => {
  const withChecksum = (b: number[]): Uint8Array => {
    const f = Uint8Array.from([0xff, ...b.slice(0, 7), 0]);
    f[8] = mhz19Checksum(f);
    return f;
  };

  // Regression: noise that happened to pass the checksum became a reading (about 1 frame in 256).
  it('refuses an answer nobody asked for, an unknown command byte and a value beyond the widest range', async () => {
    const { clock, sink, source, send } = await setup({ kind: 'mhz19', intervalMs: 5000 });
    await send(SENSOR_ANSWER_544); // answers the read sent at open
    await send(co2(700)); // nobody asked
    await send(withChecksum([0x42, 1, 2, 3, 4, 5, 6])); // no such command
    clock.advance(5000);
    await settle();
    await send(co2(40_000)); // asked, but beyond 10 000 ppm
    expect(sink.readings.map((r) => r.values['co2'])).toEqual([544]);
    expect(sink.codes()).toEqual(['FERRY_DECODE_UNASKED', 'FERRY_DECODE_IMPLAUSIBLE', 'FERRY_DECODE_IMPLAUSIBLE']);
    expect(source.health().counters).toMatchObject({ readings: 1, bad_frames: 3 });
  });

  it('random checksummed frames on a silent line never become readings', async () => {
    const { sink, send } = await setup({ kind: 'mhz19', intervalMs: 60_000, responseTimeoutMs: 50_000 });
    await send(SENSOR_ANSWER_544); // the one request outstanding is answered
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 7, maxLength: 7 }), async (b) => {
        await send(withChecksum(b));
      }),
      { numRuns: 300 },
    );
    expect(sink.readings.length).toBe(1);
  });

  it('a warm-up answer of 0 ppm ends the wait but is not a reading', async () => {
    const { clock, sink, source, send } = await setup({ kind: 'mhz19', intervalMs: 5000, responseTimeoutMs: 800 });
    await send(co2(0));
    clock.advance(800);
    expect(sink.readings).toEqual([]);
    expect(sink.problems).toEqual([]);
    expect(source.health().counters).toMatchObject({ warmup_frames: 1, readings: 0, timeouts: 0 });
  });
});
