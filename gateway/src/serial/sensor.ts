/**
 * @module What a serial sensor kind contributes to SerialSensorSource: its UART settings, the commands to
 * send after opening and for each poll, and a decoder session that turns byte chunks into measurements.
 * One file per kind (pms5003-sensor.ts, mhz19-sensor.ts), dispatched through one table.
 */
import type { DecodeError } from '../decoders/errors.ts';
import type { FramerStats } from '../decoders/framer.ts';
import type { ReadingValue } from '../sources/types.ts';
import { mhz19Sensor } from './mhz19-sensor.ts';
import { pms5003Sensor } from './pms5003-sensor.ts';

export const SERIAL_SENSOR_KINDS = ['pms5003', 'mhz19'] as const;
export type SerialSensorKind = (typeof SERIAL_SENSOR_KINDS)[number];

/**
 * 'active': the sensor streams frames by itself (PMS5003 default after power-up).
 * 'passive': the gateway sends a read command every intervalMs and expects one answer (MH-Z19 always).
 */
export type SensorMode = 'active' | 'passive';

export type SensorEvent =
  | {
      readonly type: 'measurement';
      readonly values: Readonly<Record<string, ReadingValue>>;
      readonly meta: Readonly<Record<string, ReadingValue>>;
    }
  /** A checksummed frame that is not a measurement (a command acknowledgement). */
  | { readonly type: 'other' }
  /**
   * A frame a sensor sends while it warms up (all-zero PMS5003 frames, an MH-Z19 answering 0 ppm): a valid
   * answer, but not a reading; counted, never reported as a real zero.
   */
  | { readonly type: 'warmup' }
  /** A frame the decoder refused (FERRY_DECODE_*). */
  | { readonly type: 'error'; readonly error: DecodeError };

/** One port-open's worth of decoding state. */
export interface SensorDecoder {
  push(chunk: Uint8Array): SensorEvent[];
  /** Forget partial frames (after a re-open); counters are kept. */
  reset(): void;
  /** A read command went out: one answer is now expected (request/response sensors check this). */
  expectAnswer?(): void;
  readonly stats: FramerStats;
}

export interface SensorProtocol {
  readonly kind: SerialSensorKind;
  /** Both datasheets: 9600 bps 8N1. */
  readonly baudRate: number;
  /** Modes the sensor supports; the first is the default. */
  readonly modes: readonly SensorMode[];
  createDecoder(): SensorDecoder;
  /** Written once after every open, to put the sensor into `mode` (it may have kept an older mode). */
  openCommands(mode: SensorMode): readonly Uint8Array[];
  /** Written every intervalMs in passive mode. */
  readCommand(): Uint8Array;
}

export const SERIAL_SENSORS: { readonly [K in SerialSensorKind]: SensorProtocol } = {
  pms5003: pms5003Sensor,
  mhz19: mhz19Sensor,
};

export const isSerialSensorKind = (k: string): k is SerialSensorKind => (SERIAL_SENSOR_KINDS as readonly string[]).includes(k);
