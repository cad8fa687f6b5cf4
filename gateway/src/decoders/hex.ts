/**
 * @module Hex text <-> bytes for the decoders and `ferry decode`: parseHex refuses odd lengths and non-hex
 * characters with typed errors instead of guessing (Buffer.from(s, 'hex') silently stops at the first bad pair).
 */
import { fail, ok, type DecodeResult } from './errors.ts';

const HEX_DIGIT = /^[0-9a-fA-F]$/;

/**
 * Parses hex text into bytes. Whitespace, ':' and '-' between digits are ignored (so "42 4D", "42:4d" and
 * "424d" are equal) and one leading "0x" is allowed. Positions in error messages count the original text.
 */
export function parseHex(text: string): DecodeResult<Uint8Array> {
  let start = 0;
  while (start < text.length && /\s/.test(text.charAt(start))) start++;
  if (text.startsWith('0x', start) || text.startsWith('0X', start)) start += 2;
  const digits: number[] = [];
  for (let i = start; i < text.length; i++) {
    const c = text.charAt(i);
    if (/\s/.test(c) || c === ':' || c === '-') continue;
    if (!HEX_DIGIT.test(c)) {
      return fail('FERRY_DECODE_HEX_INVALID_CHAR', `hex text has ${JSON.stringify(c)} at position ${i}, which is not a hex digit`);
    }
    digits.push(Number.parseInt(c, 16));
  }
  if (digits.length % 2 !== 0) {
    return fail('FERRY_DECODE_HEX_ODD_LENGTH', `hex text has ${digits.length} digits; bytes need an even number`);
  }
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = ((digits[2 * i] ?? 0) << 4) | (digits[2 * i + 1] ?? 0);
  return ok(out);
}

/** Lower-case hex of bytes, no separators. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** JSON.stringify replacer writing Uint8Array fields (BTHome raw objects, MH-Z19 response data) as hex. */
export const hexReplacer = (_key: string, value: unknown): unknown => (value instanceof Uint8Array ? toHex(value) : value);
