/**
 * @module Serial framing, the TypeScript twin of firmware/host/src/frame.c (docs/serial-protocol.md):
 * `version u8 | kind u8 | seq u16 LE | payload | crc32 u32 LE`, COBS-encoded (Cheshire & Baker, IEEE/ACM
 * ToN 1999) and closed by one 0x00. CRC-32/ISO-HDLC (zlib's; check 0xCBF43926 in the CRC catalogue).
 * No I/O here: `FrameDecoder` turns any chunking of any bytes into frames and typed errors, never throws.
 */
import type { SerialErrorCode } from './errors.ts';

export const FRAME_VERSION = 1;
export const FRAME_HEADER = 4;
export const FRAME_OVERHEAD = FRAME_HEADER + 4;
export const MAX_DECODED = 4096;
export const MAX_PAYLOAD = MAX_DECODED - FRAME_OVERHEAD;
export const MAX_ENCODED = MAX_DECODED + Math.ceil(MAX_DECODED / 254) + 1;

export const KIND = {
  HELLO: 0x01,
  INFO: 0x02,
  MESSAGE: 0x03,
  COMMAND: 0x04,
  UPLOAD_BEGIN: 0x05,
  UPLOAD_CHUNK: 0x06,
  UPLOAD_COMMIT: 0x07,
  ACK: 0x08,
  NACK: 0x09,
  LOG: 0x0a,
  /** gateway -> board: a signed command token from the cloud, unchanged (docs/serial-protocol.md). */
  SIGNED_COMMAND: 0x0b,
  TEST: 0x10,
} as const;
export type KindName = keyof typeof KIND;

export interface Frame {
  readonly kind: number;
  readonly seq: number;
  readonly payload: Uint8Array;
}

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Uint8Array, start = 0, end = data.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** COBS encode; a block is closed at each zero or after 254 non-zero bytes, with no empty block after a full one at the end. */
export function cobsEncode(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(src.length + Math.ceil(src.length / 254) + 1);
  let o = 1,
    codeAt = 0,
    code = 1;
  for (let i = 0; i < src.length; i++) {
    const b = src[i]!;
    if (b !== 0) {
      out[o++] = b;
      if (++code !== 0xff) continue;
      if (i + 1 === src.length) break;
    }
    out[codeAt] = code;
    codeAt = o++;
    code = 1;
  }
  out[codeAt] = code;
  return out.subarray(0, o);
}

/** COBS decode of one block (no delimiter); undefined when malformed. */
export function cobsDecode(src: Uint8Array): Uint8Array | undefined {
  const out = new Uint8Array(src.length);
  let i = 0,
    o = 0;
  while (i < src.length) {
    const code = src[i++]!;
    if (code === 0) return undefined;
    const n = code - 1;
    if (n > src.length - i) return undefined;
    for (let k = 0; k < n; k++) {
      const b = src[i + k]!;
      if (b === 0) return undefined;
      out[o++] = b;
    }
    i += n;
    if (code !== 0xff && i < src.length) out[o++] = 0;
  }
  return out.subarray(0, o);
}

/** A complete wire frame: COBS bytes and the 0x00 delimiter. */
export function encodeFrame(kind: number, seq: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (payload.length > MAX_PAYLOAD) throw new RangeError(`payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD}`);
  if (!Number.isInteger(kind) || kind < 0 || kind > 0xff || !Number.isInteger(seq) || seq < 0 || seq > 0xffff) throw new RangeError('kind u8, seq u16');
  const raw = new Uint8Array(payload.length + FRAME_OVERHEAD);
  raw[0] = FRAME_VERSION;
  raw[1] = kind;
  raw[2] = seq & 0xff;
  raw[3] = seq >>> 8;
  raw.set(payload, FRAME_HEADER);
  const crc = crc32(raw, 0, raw.length - 4);
  new DataView(raw.buffer).setUint32(raw.length - 4, crc, true);
  const enc = cobsEncode(raw);
  const out = new Uint8Array(enc.length + 1);
  out.set(enc);
  return out;
}

export type ParseResult = { readonly ok: true; readonly frame: Frame } | { readonly ok: false; readonly code: SerialErrorCode };

/** Checks a decoded (post-COBS) frame: length, CRC, then version (only an intact frame speaks for its version). */
export function parseFrame(dec: Uint8Array): ParseResult {
  if (dec.length < FRAME_OVERHEAD) return { ok: false, code: 'FERRY_SERIAL_TOO_SHORT' };
  if (dec.length > MAX_DECODED) return { ok: false, code: 'FERRY_SERIAL_TOO_LARGE' };
  const dv = new DataView(dec.buffer, dec.byteOffset, dec.length);
  if (crc32(dec, 0, dec.length - 4) !== dv.getUint32(dec.length - 4, true)) return { ok: false, code: 'FERRY_SERIAL_CRC' };
  if (dec[0] !== FRAME_VERSION) return { ok: false, code: 'FERRY_SERIAL_VERSION' };
  return { ok: true, frame: { kind: dec[1]!, seq: dv.getUint16(2, true), payload: dec.slice(FRAME_HEADER, dec.length - 4) } };
}

export type DecodeEvent = { readonly type: 'frame'; readonly frame: Frame } | { readonly type: 'error'; readonly code: SerialErrorCode };

/**
 * Streaming receiver, byte-for-byte the state machine of frame_rx_byte() in frame.c: every 0x00 ends a
 * candidate and resynchronises; a candidate longer than MAX_ENCODED is reported once as TOO_LARGE and
 * dropped up to the next delimiter; an empty candidate (0x00 0x00) is an idle fill and ignored.
 */
export class FrameDecoder {
  private buf = new Uint8Array(MAX_ENCODED);
  private len = 0;
  private discarding = false;

  push(chunk: Uint8Array): DecodeEvent[] {
    const events: DecodeEvent[] = [];
    for (const b of chunk) {
      if (b !== 0) {
        if (this.discarding) continue;
        if (this.len >= MAX_ENCODED - 1) {
          this.discarding = true;
          this.len = 0;
          events.push({ type: 'error', code: 'FERRY_SERIAL_TOO_LARGE' });
          continue;
        }
        this.buf[this.len++] = b;
        continue;
      }
      const n = this.len,
        was = this.discarding;
      this.len = 0;
      this.discarding = false;
      if (was || n === 0) continue;
      const dec = cobsDecode(this.buf.subarray(0, n));
      if (dec === undefined) {
        events.push({ type: 'error', code: 'FERRY_SERIAL_COBS' });
        continue;
      }
      const r = parseFrame(dec);
      events.push(r.ok ? { type: 'frame', frame: r.frame } : { type: 'error', code: r.code });
    }
    return events;
  }
}
