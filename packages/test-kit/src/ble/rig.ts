/**
 * @module Test fixture: a recording sink, advert builders and a started BleSource over noble + the emulated
 * controller (hci-emulator.ts), timed by the test kit's FakeClock so no test waits on a real timer.
 */
import type { Reading, SourceProblem, SourceSink } from '@ferry/gateway';
import { BleSource, type BleSourceOptions } from '@ferry/gateway/ble';
import { encodeBthomeAdvertisingData, parseHex } from '@ferry/gateway/decoders';
import { FakeClock } from '../clock.ts';
import { emulatedHciBindings, lastController, settle, until, type EmulatedController } from './hci-emulator.ts';

export class RecordingSink implements SourceSink {
  readonly readings: Reading[] = [];
  readonly problems: SourceProblem[] = [];
  reading(r: Reading): void {
    this.readings.push(r);
  }
  signed(): void {}
  problem(p: SourceProblem): void {
    this.problems.push(p);
  }
  codes(): string[] {
    return this.problems.map((p) => p.code);
  }
}

export const hex = (s: string): Uint8Array => {
  const r = parseHex(s);
  if (!r.ok) throw r.error;
  return r.value;
};

/** Flags + Service Data (0xFCD2) AD structures around BTHome service data (bthome.io/format example layout). */
export function bthomeAdv(serviceData: Uint8Array | string): Uint8Array {
  const r = encodeBthomeAdvertisingData(typeof serviceData === 'string' ? hex(serviceData) : serviceData, { extended: true });
  if (!r.ok) throw r.error;
  return r.value;
}

export interface Rig {
  readonly src: BleSource;
  readonly sink: RecordingSink;
  readonly clock: FakeClock;
  readonly ctl: EmulatedController;
  /** Sends one advert through the emulated controller and lets noble deliver it. */
  send(mac: string, adv: Uint8Array, opts?: { rssi?: number; type?: number }): Promise<boolean>;
  /** Advances the fake clock in steps, letting noble's HCI exchanges run between them as they would. */
  tick(ms: number, stepMs?: number): Promise<void>;
}

/** A BleSource over noble's HCI bindings and an emulated controller, started and scanning. */
export async function startRig(opts: Omit<BleSourceOptions, 'bindings' | 'clock'> = {}, sink = new RecordingSink()): Promise<Rig> {
  const clock = new FakeClock();
  const src = new BleSource({ ...opts, clock, bindings: emulatedHciBindings });
  await src.start(sink);
  await until(() => src.health().up);
  const ctl = lastController();
  return {
    src,
    sink,
    clock,
    ctl,
    send: async (mac, adv, o) => {
      const sent = ctl.advertise(mac, adv, o);
      await settle(2);
      return sent;
    },
    tick: async (ms, stepMs = 1_000) => {
      for (let left = ms; left > 0; left -= stepMs) {
        clock.advance(Math.min(stepMs, left));
        await settle(3);
      }
    },
  };
}
