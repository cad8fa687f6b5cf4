/**
 * @module The node:crypto adapter for the HmacKey port. Kept out of the codec so the core imports no
 * node: module (STYLE.md §8) and can run in a browser or a worker with another HMAC.
 */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import type { HmacKey } from './codec.ts';

/** A key for HS256. RFC 7518 §3.2: the key must be at least 256 bits; shorter keys are refused here. */
export function hmacKey(secret: Uint8Array): HmacKey {
  if (secret.length < 32) throw new RangeError(`HS256 keys must be at least 32 bytes (RFC 7518 §3.2), got ${secret.length}`);
  // A KeyObject is imported once; createHmac then skips re-importing the key on every message.
  const key: KeyObject = createSecretKey(secret);
  return { mac: (data) => createHmac('sha256', key).update(data).digest() };
}

/** Parses a hex key (as given on the command line); throws RangeError with a clear message. */
export function hexKey(hex: string): HmacKey {
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) throw new RangeError('key must be an even number of hex digits');
  return hmacKey(Buffer.from(hex, 'hex'));
}
