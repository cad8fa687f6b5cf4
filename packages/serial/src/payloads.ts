/**
 * @module Payload layouts of each frame kind (docs/serial-protocol.md §Kinds), built and parsed here and
 * nowhere else. Little-endian throughout, like the frame header.
 */
import { SerialError, codeOf, type SerialErrorCode } from './errors.ts';

export interface BoardInfo {
  readonly abiVersion: number;
  readonly epoch: number;
  /** Free bytes in the board's WAMR pool. */
  readonly freeMemory: number;
  readonly moduleSize: number;
  /** SHA-256 of the running module, hex; all zeros when none runs. */
  readonly moduleSha256: string;
  readonly testControl: boolean;
  readonly virtualClock: boolean;
  readonly running: boolean;
  readonly boardId: string;
}

/** The ACK of a SIGNED_COMMAND: what the board did with the token (the gateway forgets it either way). */
export const SIGNED_COMMAND_OUTCOME = { DELIVERED: 0, DROPPED: 1 } as const;
export type SignedCommandOutcome = 'delivered' | 'dropped';

export function parseSignedCommandAck(p: Uint8Array): SignedCommandOutcome | undefined {
  if (p.length !== 1) return undefined;
  return p[0] === SIGNED_COMMAND_OUTCOME.DELIVERED ? 'delivered' : p[0] === SIGNED_COMMAND_OUTCOME.DROPPED ? 'dropped' : undefined;
}

export const COMMAND_OP = { STATE_SET: 0x01, REBOOT: 0x02 } as const;
export const TEST_OP = { BOOT: 0x01, TICK: 0x02, ADVANCE: 0x03, SENSOR: 0x04, FURNACE: 0x05, ABI_VERSION: 0x06 } as const;

const ascii = new TextDecoder('latin1');
const utf8 = new TextDecoder();
const enc = new TextEncoder();

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.length);

export function parseInfo(p: Uint8Array): BoardInfo | undefined {
  if (p.length < 48) return undefined;
  const dv = view(p);
  const idLen = p[47]!;
  if (p.length !== 48 + idLen) return undefined;
  const flags = p[46]!;
  return {
    abiVersion: dv.getUint16(0, true),
    epoch: dv.getUint32(2, true),
    freeMemory: dv.getUint32(6, true),
    moduleSize: dv.getUint32(10, true),
    moduleSha256: Buffer.from(p.subarray(14, 46)).toString('hex'),
    testControl: (flags & 1) !== 0,
    virtualClock: (flags & 2) !== 0,
    running: (flags & 4) !== 0,
    boardId: ascii.decode(p.subarray(48)),
  };
}

/** A NACK as a typed error: code u16 from the catalog, then UTF-8 detail. */
export function nackError(p: Uint8Array): SerialError {
  if (p.length < 2) return new SerialError('FERRY_SERIAL_UNEXPECTED_REPLY', 'NACK without a code');
  const num = view(p).getUint16(0, true);
  const code: SerialErrorCode = codeOf(num) ?? 'FERRY_SERIAL_UNEXPECTED_REPLY';
  const detail = utf8.decode(p.subarray(2));
  return new SerialError(code, code === 'FERRY_SERIAL_UNEXPECTED_REPLY' ? `unknown NACK code ${num}: ${detail}` : detail);
}

export const u32 = (v: number): Uint8Array => {
  const b = new Uint8Array(4);
  view(b).setUint32(0, v >>> 0, true);
  return b;
};
export const readU32 = (p: Uint8Array): number | undefined => (p.length === 4 ? view(p).getUint32(0, true) : undefined);
export const readI32 = (p: Uint8Array): number | undefined => (p.length === 4 ? view(p).getInt32(0, true) : undefined);

export function stateSet(key: string, value: string): Uint8Array {
  const k = enc.encode(key),
    v = enc.encode(value);
  if (k.length < 1 || k.length > 255) throw new RangeError('state key must be 1..255 bytes');
  const p = new Uint8Array(2 + k.length + v.length);
  p[0] = COMMAND_OP.STATE_SET;
  p[1] = k.length;
  p.set(k, 2);
  p.set(v, 2 + k.length);
  return p;
}

export function uploadBegin(size: number, sha256: Uint8Array): Uint8Array {
  if (sha256.length !== 32) throw new RangeError('sha256 must be 32 bytes');
  const p = new Uint8Array(36);
  p.set(u32(size));
  p.set(sha256, 4);
  return p;
}

export function uploadChunk(offset: number, data: Uint8Array): Uint8Array {
  const p = new Uint8Array(4 + data.length);
  p.set(u32(offset));
  p.set(data, 4);
  return p;
}

export function testOp(op: number, args: Uint8Array = new Uint8Array(0)): Uint8Array {
  const p = new Uint8Array(1 + args.length);
  p[0] = op;
  p.set(args, 1);
  return p;
}

export function sensorArgs(value: number | 'fault' | undefined): Uint8Array {
  const p = new Uint8Array(5);
  p[0] = value === undefined ? 0 : value === 'fault' ? 2 : 1;
  view(p).setInt32(1, typeof value === 'number' ? value : 0, true);
  return p;
}

export interface LogLine {
  readonly level: number;
  readonly text: string;
}
export const parseLog = (p: Uint8Array): LogLine | undefined => (p.length < 1 ? undefined : { level: p[0]!, text: utf8.decode(p.subarray(1)) });
