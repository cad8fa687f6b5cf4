/**
 * @module Private tokens: one per owner, `ferry_sk.<owner>.<43 base64url chars of 32 random bytes>`.
 * The owner keeps it; the cloud stores only its SHA-256 (to recognise the owner) and the key derived
 * from it (to verify public tokens). A user who leaves the vendor generates their own and registers it
 * ("register their own private token and keep the online mode").
 */
import { createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { KID_PATTERN } from '@ferry/message';
import { fnFail, fnOk, type FnResult } from '@ferry/wasm-host';

export const PRIVATE_PREFIX = 'ferry_sk';
/** Owner ids are message kids (docs/message-format.md), so they can be dev.id and a JWS kid. */
export const OWNER_PATTERN = KID_PATTERN;
const SECRET = /^[A-Za-z0-9_-]{43}$/;

export interface PrivateToken {
  readonly owner: string;
  readonly secret: Uint8Array;
}

/** A fresh private token for `owner` (32 bytes from the CSPRNG: RFC 7518 §3.2 wants ≥ 256-bit HMAC keys). */
export function generatePrivateToken(owner: string): string {
  if (!OWNER_PATTERN.test(owner)) throw new RangeError(`owner id must match ${OWNER_PATTERN}`);
  return `${PRIVATE_PREFIX}.${owner}.${randomBytes(32).toString('base64url')}`;
}

export const isPrivateToken = (token: string): boolean => token.startsWith(`${PRIVATE_PREFIX}.`);

export function parsePrivateToken(token: string): FnResult<PrivateToken> {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PRIVATE_PREFIX) return fnFail('FERRY_FN_BAD_TOKEN', 'not a private token');
  const [, owner, secret] = parts as [string, string, string];
  if (!OWNER_PATTERN.test(owner) || !SECRET.test(secret)) return fnFail('FERRY_FN_BAD_TOKEN', 'malformed private token');
  const bytes = Buffer.from(secret, 'base64url');
  // Canonical base64url only (RFC 4648 §3.5): 43 chars carry 258 bits, the last 2 must be zero.
  if (bytes.length !== 32 || bytes.toString('base64url') !== secret) return fnFail('FERRY_FN_BAD_TOKEN', 'malformed private token');
  return fnOk({ owner, secret: new Uint8Array(bytes) });
}

/** What the cloud stores to recognise a private token: SHA-256 of the secret. */
export const privateVerifier = (secret: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(secret).digest());

export const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && timingSafeEqual(a, b);

/**
 * The HS256 key public tokens are signed with: HKDF-SHA256 (RFC 5869) of the private secret, salted with
 * a fixed label and bound to the owner id (info), so it is one-way (a public token or a leaked signing
 * key never reveals the private token) and a key derived for one owner never verifies another's tokens.
 */
export function derivePublicSigningSecret(secret: Uint8Array, owner: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', secret, 'ferry/public-token/v1', `owner:${owner}`, 32));
}
