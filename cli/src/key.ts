/** @module Reading a device key from --key or FERRY_KEY (so keys need not appear in shell history). */
import { UsageError } from './usage.ts';
import type { Io } from './io.ts';

export function keyBytes(flag: string | undefined, io: Io): Uint8Array {
  const hex = flag ?? io.env['FERRY_KEY'];
  if (hex === undefined) throw new UsageError('a key is required: --key <hex> or FERRY_KEY');
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) throw new UsageError('the key must be hex digits, two per byte');
  const b = Buffer.from(hex, 'hex');
  if (b.length < 32) throw new UsageError(`the key must be at least 32 bytes (64 hex digits) for HS256 (RFC 7518 §3.2); got ${b.length}`);
  return b;
}

export function intOption(v: string, name: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name} must be an integer in ${min}..${max}, got "${v}"`);
  return n;
}
