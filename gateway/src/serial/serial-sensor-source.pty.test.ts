/**
 * @module SerialSensorSource over REAL pseudo-terminals with the native serialport binding and the system
 * clock: a PMS5003 stream, a polled MH-Z19 (the manual's example answer), and an unplug / re-plug at the
 * same path. Providers are python3 processes (@ferry/test-kit/pty), killed after each test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killAllPtys, PtyDevice, ptyUnavailable } from '@ferry/test-kit/pty';
import { FakeMhz19 } from '@ferry/test-kit/sensors';
import { encodeMhz19Reading, mhz19ReadCommand } from '../decoders/mhz19.ts';
import { encodePmsFrame, pmsActiveModeCommand } from '../decoders/pms5003.ts';
import type { Reading, SourceProblem, SourceSink } from '../sources/types.ts';
import { SerialSensorSource, type SerialSensorSourceOptions } from './serial-sensor-source.ts';

const skip = ptyUnavailable();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await killAllPtys();
});

const until = async (cond: () => boolean, what: string, ms = 8000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
const pms = (pm2_5: number): Uint8Array => {
  const r = encodePmsFrame({
    pm1_0_cf1: 1,
    pm2_5_cf1: pm2_5,
    pm10_cf1: 3,
    pm1_0_atm: 1,
    pm2_5_atm: pm2_5,
    pm10_atm: 3,
    particles_0_3um: 300,
    particles_0_5um: 100,
    particles_1_0um: 20,
    particles_2_5um: 2,
    particles_5_0um: 1,
    particles_10um: 0,
    reserved: 0,
  });
  if (!r.ok) throw r.error;
  return r.value;
};
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function recorder(): SourceSink & { readings: Reading[]; problems: SourceProblem[] } {
  const readings: Reading[] = [];
  const problems: SourceProblem[] = [];
  return { readings, problems, reading: (r) => readings.push(r), signed: () => undefined, problem: (p) => problems.push(p) };
}

function linkPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-pty-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'ttySENSOR');
}

async function startSource(o: SerialSensorSourceOptions) {
  const sink = recorder();
  const source = new SerialSensorSource(o);
  cleanups.push(() => source.stop());
  await source.start(sink);
  return { source, sink };
}

describe.skipIf(skip !== undefined)(`serial sensors over real ptys${skip === undefined ? '' : ` (skipped: ${skip})`}`, () => {
  it('PMS5003: the active-mode command reaches the device, and frames written in odd chunks with garbage become readings', async () => {
    const path = linkPath();
    const dev = await PtyDevice.create(path);
    const { source, sink } = await startSource({ path, kind: 'pms5003' });
    expect(source.health().up).toBe(true);
    await until(() => dev.received.length >= 7, 'the mode command');
    expect(hex(dev.received)).toBe(hex(pmsActiveModeCommand()));
    const stream = Uint8Array.from([0x13, 0x42, ...pms(10), 0x00, ...pms(11), ...pms(12), 0xff, 0x4d, ...pms(13)]);
    for (let i = 0; i < stream.length; i += 7) {
      dev.write(stream.subarray(i, i + 7));
      await new Promise((r) => setTimeout(r, 2));
    }
    await until(() => sink.readings.length === 4, '4 readings');
    expect(sink.readings.map((r) => r.values['pm2_5_atm'])).toEqual([10, 11, 12, 13]);
    expect(sink.readings[0]).toMatchObject({ device: `${path}#pms5003`, kind: 'pms5003', meta: { port: path } });
    expect(sink.problems).toEqual([]);
  });

  it('MH-Z19: polls FF 01 86 … 79 every intervalMs; a simulated sensor answers (FF 86 02 20 … 58 = 544 ppm), then falls silent', async () => {
    const path = linkPath();
    const dev = await PtyDevice.create(path);
    const answer544 = Uint8Array.from([0xff, 0x86, 0x02, 0x20, 0x00, 0x00, 0x00, 0x00, 0x58]);
    const next = (ppm: number): Uint8Array => {
      const r = encodeMhz19Reading(ppm, 24);
      if (!r.ok) throw r.error;
      return r.value;
    };
    const sensor = new FakeMhz19(dev, [answer544, next(600), next(700)]);
    const { source, sink } = await startSource({ path, kind: 'mhz19', intervalMs: 150, responseTimeoutMs: 100 });
    await until(() => sink.readings.length === 3, '3 readings');
    expect(sink.readings.map((r) => r.values['co2'])).toEqual([544, 600, 700]);
    expect(sink.readings.map((r) => r.meta?.['temperature_unofficial_c'])).toEqual([undefined, 24, 24]); // byte 4 = 0: not ready, so no temperature
    expect(hex(dev.received.subarray(0, 9))).toBe(hex(mhz19ReadCommand()));
    await until(() => sink.problems.some((p) => p.code === 'FERRY_GW_SERIAL_NO_ANSWER'), 'a timeout after the answers ran out');
    expect(sensor.requests).toBeGreaterThanOrEqual(4);
    expect(source.health().counters['timeouts']).toBeGreaterThanOrEqual(1);
    expect(sink.problems.every((p) => p.code === 'FERRY_GW_SERIAL_NO_ANSWER')).toBe(true);
  });

  it('unplug: removing the device and killing the pty provider takes the source down; a new provider at the same path brings it back', async () => {
    const path = linkPath();
    let dev = await PtyDevice.create(path);
    const { source, sink } = await startSource({ path, kind: 'pms5003', backoff: { initialMs: 20, maxMs: 200 } });
    dev.write(pms(1));
    await until(() => sink.readings.length === 1, 'the first reading');

    await dev.unplug();
    await until(() => !source.health().up, 'the source to go down');
    await until(() => (source.health().counters['open_failures'] ?? 0) >= 2, 'failed re-open attempts on the dangling link');
    const codes = new Set(sink.problems.map((p) => p.code));
    expect(codes).toEqual(new Set(['FERRY_GW_SERIAL_PORT_GONE', 'FERRY_GW_SERIAL_PORT_MISSING']));

    dev = await PtyDevice.create(path);
    await until(() => source.health().up, 'the source to re-open the port');
    expect(source.health().counters).toMatchObject({ opens: 2, disconnects: 1, reopens: 1 });
    dev.write(pms(2));
    await until(() => sink.readings.length === 2, 'a reading after the re-plug');
    expect(sink.readings.map((r) => r.values['pm2_5_atm'])).toEqual([1, 2]);
    expect(source.health().lastInputMs).toBe(sink.readings[1]?.atMs);
  });
});
