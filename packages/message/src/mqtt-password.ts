/**
 * @module A board's or gateway's MQTT password, derived from the key it already holds: no second secret to
 * provision or leak. HKDF-SHA256 (RFC 5869) with the device key as input keying material, the purpose as
 * salt and the id as info keeps it separate from every other key derived from the same device key.
 */
import { hkdfSync } from 'node:crypto';

/** The salt naming this derivation's purpose (one purpose, one salt). */
export const MQTT_PASSWORD_SALT = 'ferry/mqtt-password/v1';

/** base64url(HKDF-SHA256(key, 'ferry/mqtt-password/v1', id, 32 bytes)): 43 characters. */
export function mqttPassword(key: Uint8Array, id: string): string {
  return Buffer.from(hkdfSync('sha256', key, MQTT_PASSWORD_SALT, id, 32)).toString('base64url');
}
