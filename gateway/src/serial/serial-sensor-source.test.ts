/** @module SerialSensorSource over @serialport/binding-mock and a FakeClock with a PMS5003: framing, polling, warm-up, unplug and back-off, lifecycle. */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '@ferry/test-kit/clock';
import { CableBinding } from '@ferry/test-kit/serial';
import { pmsActiveModeCommand, pmsPassiveModeCommand, pmsReadCommand } from '../decoders/pms5003.ts';
import { SerialSensorSource, type SerialSensorSourceOptions } from './serial-sensor-source.ts';
import { concat, hex, PATH, pms, type Recorder, recorder, settle } from './serial-sensor-source.rig.ts';

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

describe('PMS5003 in active mode', () => {
  it('opens 9600 8N1, asks for active mode, and turns each frame into a reading', async () => {
    const { binding, clock, sink, source, send } = await setup({ kind: 'pms5003' });
    expect(source.health()).toMatchObject({ name: `serial:${PATH}#pms5003`, up: true, lastInputMs: undefined });
    expect((binding.writes.get(PATH) ?? []).map(hex)).toEqual([hex(pmsActiveModeCommand())]);
    await send(pms(12));
    expect(sink.readings).toEqual([
      {
        device: `${PATH}#pms5003`,
        kind: 'pms5003',
        atMs: clock.now(),
        values: {
          pm1_0_atm: 5,
          pm2_5_atm: 12,
          pm10_atm: 9,
          pm1_0_cf1: 5,
          pm2_5_cf1: 13,
          pm10_cf1: 9,
          particles_0_3um: 1014,
          particles_0_5um: 282,
          particles_1_0um: 45,
          particles_2_5um: 3,
          particles_5_0um: 1,
          particles_10um: 0,
        },
        meta: { reserved: 0x9700, port: PATH, mode: 'active' },
      },
    ]);
    expect(source.health().lastInputMs).toBe(clock.now());
    expect(source.health().counters).toMatchObject({ frames: 1, readings: 1, opens: 1, bad_checksum: 0 });
  });

  it('reassembles two frames split at every position', async () => {
    const { sink, send } = await setup({ kind: 'pms5003' });
    const two = concat(pms(1), pms(2));
    for (let cut = 1; cut < two.length; cut++) {
      await send(two.subarray(0, cut));
      await send(two.subarray(cut));
    }
    expect(sink.readings.map((r) => r.values['pm2_5_atm'])).toEqual(Array.from({ length: 63 }, () => [1, 2]).flat());
    expect(sink.problems).toEqual([]);
  });

  it('skips garbage between frames (including false start bytes) and counts the bytes', async () => {
    const { sink, source, send } = await setup({ kind: 'pms5003' });
    const garbage = Uint8Array.from([0x00, 0x13, 0x42, 0x37, 0xff, 0x42]);
    await send(concat(garbage, pms(3), garbage, pms(4), garbage.subarray(0, 3)));
    await send(pms(5));
    expect(sink.readings.map((r) => r.values['pm2_5_atm'])).toEqual([3, 4, 5]);
    expect(sink.problems).toEqual([]);
    expect(source.health().counters['discarded_bytes']).toBe(15);
  });

  it('counts a bad checksum as a problem, never throws, and keeps decoding', async () => {
    const { sink, source, send } = await setup({ kind: 'pms5003' });
    const bad = pms(7);
    bad[31] = (bad[31] ?? 0) ^ 0x01;
    await send(concat(pms(6), bad, pms(8)));
    expect(sink.readings.map((r) => r.values['pm2_5_atm'])).toEqual([6, 8]);
    expect(sink.codes()).toEqual(['FERRY_DECODE_BAD_CHECKSUM']);
    expect(sink.problems[0]).toMatchObject({ device: `${PATH}#pms5003` });
    expect(source.health().counters).toMatchObject({ frames: 2, bad_checksum: 1, bad_frames: 0 });
  });

  it('accepts the 8-byte acknowledgement of the mode command without a problem', async () => {
    const { sink, source, send } = await setup({ kind: 'pms5003' });
    await send(concat(Uint8Array.from([0x42, 0x4d, 0x00, 0x04, 0xe1, 0x00, 0x01, 0x74]), pms(9)));
    expect(sink.readings.map((r) => r.values['pm2_5_atm'])).toEqual([9]);
    expect(sink.problems).toEqual([]);
    expect(source.health().counters).toMatchObject({ other_frames: 1, bad_frames: 0 });
  });

  it('stops excusing a bad length once two valid frames passed without an acknowledgement', async () => {
    const { sink, source, send } = await setup({ kind: 'pms5003' });
    const badLength = pms(9);
    badLength[3] = 0x1d;
    await send(concat(pms(1), pms(2), badLength, pms(3)));
    expect(sink.readings.map((r) => r.values['pm2_5_atm'])).toEqual([1, 2, 3]);
    expect(sink.codes()).toEqual(['FERRY_DECODE_BAD_LENGTH']);
    expect(source.health().counters).toMatchObject({ other_frames: 0, bad_frames: 1 });
  });

  it('reports FERRY_GW_SERIAL_SILENT for each silence period without a valid frame', async () => {
    const { clock, sink, source, send } = await setup({ kind: 'pms5003', silenceMs: 3000 });
    clock.advance(2999);
    await send(pms(1)); // re-arms the watchdog
    clock.advance(2999);
    expect(sink.problems).toEqual([]);
    clock.advance(1);
    clock.advance(3000);
    expect(sink.codes()).toEqual(['FERRY_GW_SERIAL_SILENT', 'FERRY_GW_SERIAL_SILENT']);
    expect(source.health().counters['timeouts']).toBe(2);
  });
});

describe('PMS5003 in passive mode', () => {
  it('asks for passive mode, then sends the read command every intervalMs and decodes the answers', async () => {
    const { binding, clock, sink, source } = await setup({ kind: 'pms5003', mode: 'passive', intervalMs: 2000 }, true, (b, rec) => {
      b.onWrite = (path, bytes) => {
        if (hex(bytes) === hex(pmsReadCommand())) b.emit(path, pms(20 + rec.readings.length));
      };
    });
    clock.advance(2000);
    await settle();
    clock.advance(2000);
    await settle();
    expect((binding.writes.get(PATH) ?? []).map(hex)).toEqual([pmsPassiveModeCommand(), pmsReadCommand(), pmsReadCommand(), pmsReadCommand()].map(hex));
    expect(sink.readings.map((r) => [r.values['pm2_5_atm'], r.meta?.['mode']])).toEqual([
      [20, 'passive'],
      [21, 'passive'],
      [22, 'passive'],
    ]);
    expect(sink.problems).toEqual([]);
    expect(source.health().counters).toMatchObject({ requests: 3, timeouts: 0 });
  });
});

describe('PMS5003 warm-up', () => {
  // Regression: the all-zero frames a PMS5003 streams while it warms up became readings of 0 µg/m³.
  it('an all-zero frame is counted as warm-up, not a reading; a real frame after it is a reading', async () => {
    const zero = {
      pm1_0_cf1: 0,
      pm2_5_cf1: 0,
      pm10_cf1: 0,
      pm1_0_atm: 0,
      pm10_atm: 0,
      particles_0_3um: 0,
      particles_0_5um: 0,
      particles_1_0um: 0,
      particles_2_5um: 0,
      particles_5_0um: 0,
      particles_10um: 0,
    };
    const { sink, source, send } = await setup({ kind: 'pms5003' });
    await send(pms(0, zero));
    await send(pms(0)); // clean air: 0 µg/m³ is real when particles are counted
    expect(sink.readings.length).toBe(1);
    expect(sink.readings[0]!.values['particles_0_3um']).not.toBe(0);
    expect(source.health().counters).toMatchObject({ warmup_frames: 1, readings: 1 });
  });
});

describe('unplug and re-open', () => {
  it('goes down on unplug, retries with capped exponential back-off on the clock, and comes back when plugged in', async () => {
    const { binding, clock, sink, source, send } = await setup({ kind: 'pms5003', backoff: { initialMs: 100, maxMs: 1000 } });
    await send(pms(1));
    binding.unplug(PATH);
    await settle();
    expect(source.health().up).toBe(false);
    expect(sink.codes()).toEqual(['FERRY_GW_SERIAL_PORT_GONE']);
    expect(clock.pending()).toEqual([100]); // nothing but the re-open timer
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const d = clock.pending()[0] ?? -1;
      delays.push(d);
      clock.advance(d - 1);
      await settle();
      const before = binding.opens.get(PATH);
      clock.advance(1);
      await settle();
      expect(binding.opens.get(PATH)).toBe((before ?? 0) + 1);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(sink.codes().slice(1)).toEqual(Array.from({ length: 6 }, () => 'FERRY_GW_SERIAL_PORT_MISSING'));
    binding.plug(PATH);
    clock.advance(1000);
    await settle();
    expect(source.health()).toMatchObject({ up: true, counters: { opens: 2, disconnects: 1, open_failures: 6, reopen_attempts: 7, reopens: 1 } });
    await send(pms(2));
    expect(sink.readings.map((r) => r.values['pm2_5_atm'])).toEqual([1, 2]);
    // After a successful open the back-off starts again from initialMs.
    binding.unplug(PATH);
    await settle();
    expect(clock.pending()).toEqual([100]);
  });

  it('drops a frame cut short by the unplug instead of gluing it to the next one', async () => {
    const { binding, clock, sink, send } = await setup({ kind: 'pms5003', backoff: { initialMs: 100 } });
    await send(pms(1).subarray(0, 20));
    binding.unplug(PATH);
    binding.plug(PATH);
    await settle();
    clock.advance(100);
    await settle();
    await send(pms(2));
    expect(sink.readings.map((r) => r.values['pm2_5_atm'])).toEqual([2]);
  });

  it('starts with a missing port (ENOENT) without rejecting, and opens it once it appears', async () => {
    const { binding, clock, sink, source } = await setup({ kind: 'mhz19', intervalMs: 5000, backoff: { initialMs: 100 } }, false);
    expect(source.health()).toMatchObject({ up: false, counters: { open_failures: 1 } });
    expect(sink.problems[0]?.message).toMatch(/^FERRY_GW_SERIAL_PORT_MISSING: cannot open \/dev\/ttyFAKE0: .*No such file/);
    binding.plug(PATH);
    clock.advance(100);
    await settle();
    expect(source.health()).toMatchObject({ up: true, counters: { reopens: 1, requests: 1 } });
  });

  it('a polled sensor stops polling while the port is gone', async () => {
    const { binding, clock, source } = await setup({ kind: 'mhz19', intervalMs: 5000, backoff: { initialMs: 60_000, maxMs: 60_000 } });
    binding.unplug(PATH);
    await settle();
    clock.advance(30_000);
    await settle();
    expect(source.health().counters).toMatchObject({ requests: 1, timeouts: 0 });
  });
});

describe('lifecycle and options', () => {
  it('survives a sink that throws: the exception is counted and reported, decoding goes on', async () => {
    const { sink, source, send } = await setup({ kind: 'pms5003' }, true, (_b, rec) => {
      const keep = rec.reading;
      rec.reading = (r) => {
        if (r.values['pm2_5_atm'] === 1) throw new Error('database is locked');
        keep(r);
      };
    });
    await send(concat(pms(1), pms(2)));
    expect(sink.readings.map((r) => r.values['pm2_5_atm'])).toEqual([2]);
    expect(sink.problems.map((p) => p.message)).toEqual(['FERRY_GW_SERIAL_INTERNAL: the sink threw: database is locked']);
    expect(source.health().counters).toMatchObject({ internal_errors: 1, readings: 2 });
  });

  it('stop() closes the port and cancels every timer, also while waiting to re-open', async () => {
    const a = await setup({ kind: 'mhz19', intervalMs: 5000 });
    await a.source.stop();
    expect(a.clock.pending()).toEqual([]);
    expect(a.binding.isOpen(PATH)).toBe(false);
    expect(a.source.health().up).toBe(false);
    const b = await setup({ kind: 'pms5003' }, false);
    expect(b.clock.pending().length).toBe(1);
    await b.source.stop();
    expect(b.clock.pending()).toEqual([]);
  });

  it('stop() during an open in flight closes the port it was opening', async () => {
    const binding = new CableBinding();
    binding.plug(PATH);
    const source = new SerialSensorSource({ path: PATH, kind: 'pms5003', binding, clock: new FakeClock() });
    const started = source.start(recorder());
    await source.stop();
    await started;
    await settle();
    expect(binding.isOpen(PATH)).toBe(false);
  });

  it('throws FERRY_GW_SERIAL_BAD_OPTIONS for invalid options', () => {
    const bad =
      (o: Partial<SerialSensorSourceOptions>): (() => unknown) =>
      () =>
        new SerialSensorSource({ path: PATH, kind: 'pms5003', ...o });
    expect(bad({ kind: 'co2meter' as 'mhz19' })).toThrow(/^FERRY_GW_SERIAL_BAD_OPTIONS: kind "co2meter"/);
    expect(bad({ path: '' })).toThrow(/FERRY_GW_SERIAL_BAD_OPTIONS/);
    expect(bad({ kind: 'mhz19', mode: 'active' })).toThrow(/mhz19 has no active mode/);
    expect(bad({ intervalMs: 0 })).toThrow(/intervalMs must be a positive/);
    expect(bad({ intervalMs: 1000, responseTimeoutMs: 1000 })).toThrow(/must be shorter than intervalMs/);
    expect(bad({ backoff: { factor: 0.5 } })).toThrow(/backoff.factor/);
  });
});
