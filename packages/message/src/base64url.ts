/**
 * @module Strict base64url (RFC 4648 §5, no padding, RFC 7515 §2).
 * Hand-written on purpose: Node's Buffer decoder skips characters outside the alphabet and accepts
 * non-zero trailing bits, so a flipped character could decode to the same bytes and a tampered token
 * would verify. This decoder accepts exactly one spelling per byte string (canonical form).
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const ENC = new Uint8Array(64);
const DEC = new Int16Array(256).fill(-1);
for (let i = 0; i < 64; i++) {
  ENC[i] = ALPHABET.charCodeAt(i);
  DEC[ALPHABET.charCodeAt(i)] = i;
}

/** Encoded length of n bytes without padding. */
export const encodedLength = (n: number): number => Math.floor(n / 3) * 4 + [0, 2, 3][n % 3]!;

/** Writes base64url of `src` into `out` at `pos`; returns the new position. */
export function encodeInto(src: Uint8Array, out: Uint8Array, pos: number): number {
  let i = 0;
  const full = src.length - (src.length % 3);
  for (; i < full; i += 3) {
    const n = (src[i]! << 16) | (src[i + 1]! << 8) | src[i + 2]!;
    out[pos++] = ENC[n >>> 18]!;
    out[pos++] = ENC[(n >>> 12) & 63]!;
    out[pos++] = ENC[(n >>> 6) & 63]!;
    out[pos++] = ENC[n & 63]!;
  }
  const rest = src.length - full;
  if (rest === 1) {
    const n = src[i]! << 16;
    out[pos++] = ENC[n >>> 18]!;
    out[pos++] = ENC[(n >>> 12) & 63]!;
  } else if (rest === 2) {
    const n = (src[i]! << 16) | (src[i + 1]! << 8);
    out[pos++] = ENC[n >>> 18]!;
    out[pos++] = ENC[(n >>> 12) & 63]!;
    out[pos++] = ENC[(n >>> 6) & 63]!;
  }
  return pos;
}

export function encode(src: Uint8Array): string {
  const out = new Uint8Array(encodedLength(src.length));
  encodeInto(src, out, 0);
  let s = '';
  for (let i = 0; i < out.length; i += 4096) s += String.fromCharCode(...out.subarray(i, i + 4096));
  return s;
}

/** Decoded length of `len` base64url characters, or -1 when no canonical encoding has that length. */
export const decodedLength = (len: number): number => ((len & 3) === 1 ? -1 : (len >> 2) * 3 + ((len & 3) === 0 ? 0 : (len & 3) - 1));

/**
 * Decodes `src[start, end)` (ASCII bytes). Returns undefined when a character is outside the alphabet,
 * the length is impossible (4k+1), or the unused trailing bits are not zero.
 */
export function decodeRange(src: Uint8Array, start: number, end: number): Uint8Array | undefined {
  const n = decodedLength(end - start);
  if (n < 0) return undefined;
  const out = new Uint8Array(n);
  return decodeInto(src, start, end, out) < 0 ? undefined : out;
}

/**
 * Like decodeRange, into `out` (which must have room for decodedLength bytes). Returns the decoded length,
 * or -1. Lets hot paths reuse one buffer: V8 allocates typed arrays over 64 bytes off-heap, which costs
 * more than decoding them.
 */
export function decodeInto(src: Uint8Array, start: number, end: number, out: Uint8Array): number {
  const len = end - start;
  const rest = len & 3;
  if (rest === 1) return -1;
  let o = 0;
  let i = start;
  const full = start + len - rest;
  for (; i < full; i += 4) {
    const a = DEC[src[i]!]!,
      b = DEC[src[i + 1]!]!,
      c = DEC[src[i + 2]!]!,
      d = DEC[src[i + 3]!]!;
    if ((a | b | c | d) < 0) return -1;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = n >>> 16;
    out[o++] = (n >>> 8) & 255;
    out[o++] = n & 255;
  }
  if (rest === 2) {
    const a = DEC[src[i]!]!,
      b = DEC[src[i + 1]!]!;
    if ((a | b) < 0 || (b & 15) !== 0) return -1;
    out[o++] = (a << 2) | (b >> 4);
  } else if (rest === 3) {
    const a = DEC[src[i]!]!,
      b = DEC[src[i + 1]!]!,
      c = DEC[src[i + 2]!]!;
    if ((a | b | c) < 0 || (c & 3) !== 0) return -1;
    out[o++] = (a << 2) | (b >> 4);
    out[o++] = ((b & 15) << 4) | (c >> 2);
  }
  return o;
}
