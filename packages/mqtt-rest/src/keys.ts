/**
 * @module The control channel's key: one secret per gateway is enough because every purpose gets its own
 * key, HKDF-SHA256 (RFC 5869) of the gateway key with the purpose as salt and the gateway id as info. A
 * reading (MACed with the gateway key itself) therefore never verifies as a control message, a control
 * message never verifies as a reading, and no gateway's control key verifies another gateway's messages.
 */
import { hkdfSync } from 'node:crypto';
import type { HmacKey } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';

/** The HKDF salt of the control key (docs/gateway.md, "The control protocol"). */
export const CONTROL_KEY_SALT = 'ferry/control/v1';

/** The raw control key: HKDF-SHA256(ikm = gateway key, salt = 'ferry/control/v1', info = gateway id, 32 bytes). */
export function controlKeyBytes(gatewayKey: Uint8Array, gatewayId: string): Uint8Array {
  if (gatewayKey.length < 32) throw new RangeError(`a gateway key has at least 32 bytes, got ${gatewayKey.length}`);
  return new Uint8Array(hkdfSync('sha256', gatewayKey, CONTROL_KEY_SALT, gatewayId, 32));
}

/** The HS256 key control requests and replies to and from `gatewayId` are MACed with. */
export const controlKey = (gatewayKey: Uint8Array, gatewayId: string): HmacKey => hmacKey(controlKeyBytes(gatewayKey, gatewayId));
