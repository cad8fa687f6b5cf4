/**
 * @module BTHome v2 encryption (https://bthome.io/encryption/): AES-128-CCM with a 4-byte MIC and a 13-byte
 * nonce = MAC (6) + UUID 0xFCD2 as sent, D2 FC (2) + device information byte (1) + counter (4, as sent).
 * The only node: import of the BTHome code; everything here returns results and never throws.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { fail, ok, type DecodeResult } from '../decoders/errors.ts';

export const BTHOME_KEY_BYTES = 16;
export const BTHOME_MIC_BYTES = 4;
export const BTHOME_COUNTER_BYTES = 4;
/** 0xFCD2 little-endian, as it appears in the service data AD element and in the nonce. */
export const BTHOME_UUID_BYTES: readonly number[] = [0xd2, 0xfc];

/** Parses "54:48:E6:8F:80:A5", "54-48-e6-8f-80-a5" or "5448E68F80A5" into six bytes in display order. */
export function parseMac(text: string): DecodeResult<Uint8Array> {
  const digits = text.trim().replace(/[:-]/g, '');
  if (!/^[0-9a-fA-F]{12}$/.test(digits)) {
    return fail('FERRY_DECODE_BAD_MAC_ADDRESS', `MAC address ${JSON.stringify(text)} is not six hex bytes like AA:BB:CC:DD:EE:FF`);
  }
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) out[i] = Number.parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return ok(out);
}

/** Six bytes in display order -> "54:48:E6:8F:80:A5" (the key ReplayGuard uses). */
export function formatMac(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(':');
}

export function checkKey(key: Uint8Array): DecodeResult<Uint8Array> {
  if (key.length !== BTHOME_KEY_BYTES) {
    return fail('FERRY_DECODE_BAD_KEY', `bind key is ${key.length} bytes; AES-128 needs ${BTHOME_KEY_BYTES}`);
  }
  return ok(key);
}

/** bthome.io/encryption "Encrypting the input": nonce = MAC + D2 FC + device info + counter (13 bytes). */
export function bthomeNonce(mac: Uint8Array, deviceInfo: number, counter: Uint8Array): Uint8Array {
  const nonce = new Uint8Array(13);
  nonce.set(mac, 0);
  nonce.set(BTHOME_UUID_BYTES, 6);
  nonce[8] = deviceInfo;
  nonce.set(counter, 9);
  return nonce;
}

/** Verifies the MIC and returns the plaintext, or null if authentication fails. */
export function ccmDecrypt(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, mic: Uint8Array): Uint8Array | null {
  try {
    const decipher = createDecipheriv('aes-128-ccm', key, nonce, { authTagLength: BTHOME_MIC_BYTES });
    decipher.setAuthTag(mic);
    const plain = decipher.update(ciphertext);
    // Node verifies the CCM tag in final(), which throws on a mismatch.
    decipher.final();
    return new Uint8Array(plain);
  } catch {
    return null;
  }
}

/** Encrypts and returns ciphertext and 4-byte MIC. Only fails on a wrong key or nonce length. */
export function ccmEncrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
): DecodeResult<{ readonly ciphertext: Uint8Array; readonly mic: Uint8Array }> {
  const checked = checkKey(key);
  if (!checked.ok) return checked;
  try {
    const cipher = createCipheriv('aes-128-ccm', key, nonce, { authTagLength: BTHOME_MIC_BYTES });
    const ciphertext = new Uint8Array(cipher.update(plaintext));
    cipher.final();
    return ok({ ciphertext, mic: new Uint8Array(cipher.getAuthTag()) });
  } catch (e) {
    return fail('FERRY_DECODE_OUT_OF_RANGE', `AES-CCM refused the input: ${e instanceof Error ? e.message : String(e)}`);
  }
}
