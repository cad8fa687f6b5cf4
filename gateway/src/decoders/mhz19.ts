/**
 * @module Winsen MH-Z19/MH-Z19B UART protocol (MH-Z19B User's Manual, "Commands" and "Checksum calculation
 * method"): 9-byte frames starting 0xFF, checksum = (0xFF - (byte1 + ... + byte7)) + 1, modulo 256.
 * Response decoder, streaming framer, and builders for the documented commands.
 */
import { fail, hexByte, ok, type DecodeResult } from './errors.ts';
import { StreamFramer } from './framer.ts';

export const MHZ19_FRAME_BYTES = 9;
export const MHZ19_START = 0xff; // "Start Byte"
export const MHZ19_SENSOR = 0x01; // byte 1 of a command ("Reserved"/sensor number)

// Manual, "Commands" table.
export const MHZ19_CMD_READ = 0x86; // read CO2 concentration
export const MHZ19_CMD_ZERO = 0x87; // calibrate zero point (400 ppm)
export const MHZ19_CMD_SPAN = 0x88; // calibrate span point
export const MHZ19_CMD_ABC = 0x79; // ON/OFF self-calibration for zero point
export const MHZ19_CMD_RANGE = 0x99; // detection range setting

export type Mhz19Message =
  | {
      readonly type: 'co2';
      /** Manual, 0x86 return value: CO2 concentration = HIGH * 256 + LOW. */
      readonly co2Ppm: number;
      /**
       * NOT in the datasheet: byte 4 minus 40 is widely observed to be the sensor's internal temperature
       * in °C (coarse, for compensation, not an ambient thermometer). Treat it as a hint only.
       */
      readonly unofficial: { readonly temperatureC: number };
    }
  | {
      /** Any other checksummed frame (undocumented acknowledgements some firmware sends). */
      readonly type: 'response';
      readonly command: number;
      /** Bytes 2..7. */
      readonly data: Uint8Array;
    };

/** Manual, "Checksum calculation method": (0xFF - (byte1+...+byte7)) + 1, kept to one byte. */
export function mhz19Checksum(frame: Uint8Array): number {
  let sum = 0;
  for (let i = 1; i <= 7; i++) sum += frame[i] ?? 0;
  return (0xff - (sum & 0xff) + 1) & 0xff;
}

/** Decodes exactly one 9-byte frame sent by the sensor. */
export function decodeMhz19Frame(frame: Uint8Array): DecodeResult<Mhz19Message> {
  if (frame.length < MHZ19_FRAME_BYTES) return fail('FERRY_DECODE_TRUNCATED', `MH-Z19 frame is ${frame.length} bytes; it needs ${MHZ19_FRAME_BYTES}`);
  if (frame.length > MHZ19_FRAME_BYTES)
    return fail('FERRY_DECODE_TRAILING_BYTES', `MH-Z19 frame is ${frame.length} bytes; ${frame.length - MHZ19_FRAME_BYTES} follow the 9-byte frame`);
  if (frame[0] !== MHZ19_START) return fail('FERRY_DECODE_BAD_HEADER', `MH-Z19 frame starts ${hexByte(frame[0] ?? 0)}, not 0xFF`);
  const expected = mhz19Checksum(frame);
  if (frame[8] !== expected) {
    return fail('FERRY_DECODE_BAD_CHECKSUM', `MH-Z19 checksum is ${hexByte(frame[8] ?? 0)}, but bytes 1..7 give ${hexByte(expected)}`);
  }
  const command = frame[1] ?? 0;
  if (command === MHZ19_CMD_READ) {
    const co2Ppm = ((frame[2] ?? 0) << 8) | (frame[3] ?? 0);
    return ok({ type: 'co2', co2Ppm, unofficial: { temperatureC: (frame[4] ?? 0) - 40 } });
  }
  return ok({ type: 'response', command, data: frame.slice(2, 8) });
}

/** Streaming MH-Z19 framer: push() serial chunks, get messages and typed frame errors back. */
export class Mhz19Framer extends StreamFramer<Mhz19Message> {
  constructor() {
    super({ header: [MHZ19_START], frameBytes: MHZ19_FRAME_BYTES, decode: decodeMhz19Frame });
  }
}

/** FF, byte1, command, bytes 3..7, checksum. */
function frame(byte1: number, command: number, data: readonly number[]): Uint8Array {
  const f = new Uint8Array(MHZ19_FRAME_BYTES);
  f[0] = MHZ19_START;
  f[1] = byte1;
  f[2] = command;
  f.set(data.slice(0, 5), 3);
  f[8] = mhz19Checksum(f);
  return f;
}

/** FF 01 86 00 00 00 00 00 79 (manual, 0x86). */
export const mhz19ReadCommand = (): Uint8Array => frame(MHZ19_SENSOR, MHZ19_CMD_READ, []);

/** FF 01 87 00 00 00 00 00 78: zero point = 400 ppm; run after 20 min in fresh air (manual, 0x87 and §8). */
export const mhz19ZeroCalibrationCommand = (): Uint8Array => frame(MHZ19_SENSOR, MHZ19_CMD_ZERO, []);

/** FF 01 79 A0 ... E6 (on) / FF 01 79 00 ... 86 (off): byte 3 is 0xA0 for on, 0x00 for off (manual, 0x79). */
export const mhz19AbcCommand = (on: boolean): Uint8Array => frame(MHZ19_SENSOR, MHZ19_CMD_ABC, [on ? 0xa0 : 0x00]);

/** Detection ranges the manual allows ("should be 0~2000, 0~5000, or 0~10000ppm"). */
export const MHZ19_RANGES = [2000, 5000, 10000] as const;
export type Mhz19Range = (typeof MHZ19_RANGES)[number];

/** FF 01 99 00 <range as 32-bit big-endian in bytes 4..7> checksum (manual, 0x99): 2000 -> ... 07 D0 8F. */
export function mhz19DetectionRangeCommand(ppm: Mhz19Range): DecodeResult<Uint8Array> {
  if (!(MHZ19_RANGES as readonly number[]).includes(ppm)) {
    return fail('FERRY_DECODE_OUT_OF_RANGE', `MH-Z19 detection range ${ppm} ppm is not one of ${MHZ19_RANGES.join(', ')}`);
  }
  return ok(frame(MHZ19_SENSOR, MHZ19_CMD_RANGE, [0x00, (ppm >>> 24) & 0xff, (ppm >>> 16) & 0xff, (ppm >>> 8) & 0xff, ppm & 0xff]));
}

/** FF 01 88 HH LL 00 00 00 checksum (0x88 span point calibration, span in ppm as uint16, e.g. 2000). */
export function mhz19SpanCalibrationCommand(ppm: number): DecodeResult<Uint8Array> {
  if (!Number.isInteger(ppm) || ppm < 1 || ppm > 0xffff) {
    return fail('FERRY_DECODE_OUT_OF_RANGE', `MH-Z19 span point ${ppm} ppm is not an integer in 1..65535`);
  }
  return ok(frame(MHZ19_SENSOR, MHZ19_CMD_SPAN, [ppm >> 8, ppm & 0xff]));
}

/**
 * Builds a sensor's 0x86 answer (for tests and simulated sensors): FF 86 HIGH LOW (temp+40) 00 00 00 sum.
 * temperatureC is the unofficial byte 4; omit it to send 0 as the manual's example does.
 */
export function encodeMhz19Reading(co2Ppm: number, temperatureC?: number): DecodeResult<Uint8Array> {
  if (!Number.isInteger(co2Ppm) || co2Ppm < 0 || co2Ppm > 0xffff) {
    return fail('FERRY_DECODE_OUT_OF_RANGE', `CO2 ${co2Ppm} ppm is not a uint16`);
  }
  const t = temperatureC === undefined ? 0 : temperatureC + 40;
  if (!Number.isInteger(t) || t < 0 || t > 0xff) return fail('FERRY_DECODE_OUT_OF_RANGE', `temperature ${temperatureC} °C is not in -40..215`);
  const f = new Uint8Array(MHZ19_FRAME_BYTES);
  f.set([MHZ19_START, MHZ19_CMD_READ, co2Ppm >> 8, co2Ppm & 0xff, t], 0);
  f[8] = mhz19Checksum(f);
  return ok(f);
}
