/**
 * @module Plantower PMS5003 UART protocol (PMS5003 datasheet, Appendix I "transport protocol - Active Mode"
 * and Appendix II "Passive Mode"): 32-byte frames 42 4D, frame length 28 (2x13+2), thirteen big-endian data
 * words, check code = sum of the first 30 bytes; plus the 7-byte host commands with their check codes.
 */
import { fail, hexByte, ok, type DecodeResult } from './errors.ts';
import { StreamFramer } from './framer.ts';

export const PMS_HEADER: readonly number[] = [0x42, 0x4d]; // Appendix I: start character 1 and 2
export const PMS_FRAME_BYTES = 32;
export const PMS_FRAME_LENGTH = 28; // Appendix I: "Frame length = 2x13+2 (data+check bytes)"

/** Appendix I data 1..13, in order. Concentrations in µg/m³; particle counts per 0.1 L of air. */
export interface PmsReading {
  /** Data 1-3: PM concentrations with CF=1, "standard particle" (factory calibration environment). */
  readonly pm1_0_cf1: number;
  readonly pm2_5_cf1: number;
  readonly pm10_cf1: number;
  /** Data 4-6: PM concentrations "under atmospheric environment" (use these for ambient air). */
  readonly pm1_0_atm: number;
  readonly pm2_5_atm: number;
  readonly pm10_atm: number;
  /** Data 7-12: number of particles with diameter beyond 0.3/0.5/1.0/2.5/5.0/10 µm in 0.1 L of air. */
  readonly particles_0_3um: number;
  readonly particles_0_5um: number;
  readonly particles_1_0um: number;
  readonly particles_2_5um: number;
  readonly particles_5_0um: number;
  readonly particles_10um: number;
  /** Data 13: "reserved" in the datasheet (some firmware puts a version and an error code here). */
  readonly reserved: number;
}

const FIELDS = [
  'pm1_0_cf1',
  'pm2_5_cf1',
  'pm10_cf1',
  'pm1_0_atm',
  'pm2_5_atm',
  'pm10_atm',
  'particles_0_3um',
  'particles_0_5um',
  'particles_1_0um',
  'particles_2_5um',
  'particles_5_0um',
  'particles_10um',
  'reserved',
] as const satisfies ReadonlyArray<keyof PmsReading>;

/** Appendix I/II check code: 16-bit sum of bytes [0, end). */
export function pmsChecksum(bytes: Uint8Array, end: number): number {
  let sum = 0;
  for (let i = 0; i < end; i++) sum += bytes[i] ?? 0;
  return sum & 0xffff;
}

const word = (b: Uint8Array, at: number): number => ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0); // high byte first

/** Decodes exactly one 32-byte frame. */
export function decodePmsFrame(frame: Uint8Array): DecodeResult<PmsReading> {
  if (frame.length < PMS_FRAME_BYTES) return fail('FERRY_DECODE_TRUNCATED', `PMS5003 frame is ${frame.length} bytes; it needs ${PMS_FRAME_BYTES}`);
  if (frame.length > PMS_FRAME_BYTES)
    return fail('FERRY_DECODE_TRAILING_BYTES', `PMS5003 frame is ${frame.length} bytes; ${frame.length - PMS_FRAME_BYTES} follow the 32-byte frame`);
  if (frame[0] !== PMS_HEADER[0] || frame[1] !== PMS_HEADER[1]) {
    return fail('FERRY_DECODE_BAD_HEADER', `PMS5003 frame starts ${hexByte(frame[0] ?? 0)} ${hexByte(frame[1] ?? 0)}, not 0x42 0x4D`);
  }
  const length = word(frame, 2);
  if (length !== PMS_FRAME_LENGTH) return fail('FERRY_DECODE_BAD_LENGTH', `PMS5003 frame length field is ${length}, not ${PMS_FRAME_LENGTH}`);
  const expected = pmsChecksum(frame, 30);
  const received = word(frame, 30);
  if (expected !== received) {
    return fail('FERRY_DECODE_BAD_CHECKSUM', `PMS5003 check code is 0x${received.toString(16)}, but the first 30 bytes sum to 0x${expected.toString(16)}`);
  }
  const data = (n: number): number => word(frame, 2 + 2 * n); // data n (1-based) starts at byte 2n+2
  return ok({
    pm1_0_cf1: data(1),
    pm2_5_cf1: data(2),
    pm10_cf1: data(3),
    pm1_0_atm: data(4),
    pm2_5_atm: data(5),
    pm10_atm: data(6),
    particles_0_3um: data(7),
    particles_0_5um: data(8),
    particles_1_0um: data(9),
    particles_2_5um: data(10),
    particles_5_0um: data(11),
    particles_10um: data(12),
    reserved: data(13),
  });
}

/** Builds a valid 32-byte frame from a reading (for tests and simulated sensors); words must be uint16. */
export function encodePmsFrame(reading: PmsReading): DecodeResult<Uint8Array> {
  const frame = new Uint8Array(PMS_FRAME_BYTES);
  frame.set(PMS_HEADER, 0);
  frame[3] = PMS_FRAME_LENGTH;
  for (const [i, f] of FIELDS.entries()) {
    const v = reading[f];
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) return fail('FERRY_DECODE_OUT_OF_RANGE', `PMS5003 ${f} = ${v} is not a uint16`);
    frame[4 + 2 * i] = v >> 8;
    frame[5 + 2 * i] = v & 0xff;
  }
  const sum = pmsChecksum(frame, 30);
  frame[30] = sum >> 8;
  frame[31] = sum & 0xff;
  return ok(frame);
}

/** Streaming PMS5003 framer: push() serial chunks, get readings and typed frame errors back. */
export class Pms5003Framer extends StreamFramer<PmsReading> {
  constructor() {
    super({ header: PMS_HEADER, frameBytes: PMS_FRAME_BYTES, decode: decodePmsFrame });
  }
}

/** Appendix II command codes (CMD byte). */
export const PMS_CMD_READ = 0xe2; // read in passive mode; the answer is a normal 32-byte frame
export const PMS_CMD_MODE = 0xe1; // data 0x00 = passive, 0x01 = active
export const PMS_CMD_SLEEP = 0xe4; // data 0x00 = sleep, 0x01 = wakeup

/** Appendix II: 42 4D CMD DATAH DATAL LRCH LRCL, verify = 16-bit sum of the five bytes before it. */
export function pmsCommand(cmd: number, data: number): Uint8Array {
  const frame = Uint8Array.from([0x42, 0x4d, cmd & 0xff, (data >> 8) & 0xff, data & 0xff, 0, 0]);
  const sum = pmsChecksum(frame, 5);
  frame[5] = sum >> 8;
  frame[6] = sum & 0xff;
  return frame;
}

/** 42 4D E2 00 00 01 71 */
export const pmsReadCommand = (): Uint8Array => pmsCommand(PMS_CMD_READ, 0x0000);
/** 42 4D E1 00 00 01 70 */
export const pmsPassiveModeCommand = (): Uint8Array => pmsCommand(PMS_CMD_MODE, 0x0000);
/** 42 4D E1 00 01 01 71 */
export const pmsActiveModeCommand = (): Uint8Array => pmsCommand(PMS_CMD_MODE, 0x0001);
/** 42 4D E4 00 00 01 73 */
export const pmsSleepCommand = (): Uint8Array => pmsCommand(PMS_CMD_SLEEP, 0x0000);
/** 42 4D E4 00 01 01 74 */
export const pmsWakeCommand = (): Uint8Array => pmsCommand(PMS_CMD_SLEEP, 0x0001);
