/**
 * @module The node:crypto adapter for the HmacKey port. Kept out of the codec so the core imports no
 * node: module and can run in a browser or a worker with another HMAC.
 */
import { createHash, createHmac, createSecretKey, hash, hkdfSync } from 'node:crypto';
import type { HmacKey } from './codec.ts';
import { MAX_TOKEN_BYTES } from './codec.ts';
import { DOWNLINK_SALT } from './downlink.ts';

const BLOCK = 64;

/**
 * A key for HS256. RFC 7518 §3.2: the key must be at least 256 bits; shorter keys are refused here.
 * HMAC (RFC 2104) = H((K ^ opad) || H((K ^ ipad) || m)), computed with two one-shot crypto.hash calls
 * over buffers whose padded-key prefix is prepared once: about 20 % cheaper per message than
 * createHmac, whose per-call object set-up dominates for messages of a few hundred bytes. Cross-checked
 * against createHmac and the RFC 4231 vectors in node-hmac.test.ts; inputs longer than a token use
 * createHmac.
 */
export function hmacKey(secret: Uint8Array): HmacKey {
  if (secret.length < 32) throw new RangeError(`HS256 keys must be at least 32 bytes (RFC 7518 §3.2), got ${secret.length}`);
  const k = secret.length > BLOCK ? createHash('sha256').update(secret).digest() : secret;
  const inner = new Uint8Array(BLOCK + MAX_TOKEN_BYTES);
  const outer = new Uint8Array(BLOCK + 32);
  for (let i = 0; i < BLOCK; i++) {
    inner[i] = (k[i] ?? 0) ^ 0x36;
    outer[i] = (k[i] ?? 0) ^ 0x5c;
  }
  const keyObject = createSecretKey(secret);
  return {
    mac: (data) => {
      if (data.length > MAX_TOKEN_BYTES) return createHmac('sha256', keyObject).update(data).digest();
      inner.set(data, BLOCK);
      outer.set(hash('sha256', inner.subarray(0, BLOCK + data.length), 'buffer'), BLOCK);
      return hash('sha256', outer, 'buffer');
    },
  };
}

/** Parses a hex key (as given on the command line); throws RangeError with a clear message. */
export function hexKey(hex: string): HmacKey {
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) throw new RangeError('key must be an even number of hex digits');
  return hmacKey(Buffer.from(hex, 'hex'));
}

/**
 * The downlink key of device `id` (docs/message-format.md "Downlink"): HKDF-SHA256 (RFC 5869) of its
 * 32-byte device key, salt 'ferry/downlink/v1', info the device id, 32 bytes. The cloud signs what it
 * sends the device with it; the device's host verifies with it. Never the device key itself, so an uplink
 * never verifies as a downlink.
 */
export function downlinkKeyBytes(deviceKey: Uint8Array, id: string): Uint8Array {
  if (deviceKey.length < 32) throw new RangeError(`device keys are at least 32 bytes, got ${deviceKey.length}`);
  return new Uint8Array(hkdfSync('sha256', deviceKey, DOWNLINK_SALT, id, 32));
}

/** `downlinkKeyBytes` as an HmacKey: the derived bytes stay inside the key object. */
export function downlinkKey(deviceKey: Uint8Array, id: string): HmacKey {
  const bytes = downlinkKeyBytes(deviceKey, id);
  const k = hmacKey(bytes);
  bytes.fill(0);
  return k;
}

export { MQTT_PASSWORD_SALT, mqttPassword } from './mqtt-password.ts';
