/**
 * @module MQTT connect options for a cloud's broker, which authenticates every client (docs/cloud.md, "MQTT"):
 * a device or gateway logs in as its id with the password derived from its key, its client id its id; a
 * worker (a test standing in for the cloud, or for many devices at once) with the cloud's worker credential
 * and a client id starting with its user name.
 */
import { randomBytes } from 'node:crypto';
import { mqttPassword } from '@ferry/message/node';

export interface MqttLogin {
  readonly clientId: string;
  readonly username: string;
  readonly password: string;
}

/** Device or gateway `id` whose key is `key` (hex, as DeviceRegistry.add returns it, or bytes). */
export function deviceLogin(id: string, key: string | Uint8Array): MqttLogin {
  return { clientId: id, username: id, password: mqttPassword(typeof key === 'string' ? Buffer.from(key, 'hex') : key, id) };
}

/** A worker connection with `cred` (CloudService.mqttCredential), under a fresh client id. */
export function workerLogin(cred: { readonly username: string; readonly password: string } | undefined): Partial<MqttLogin> {
  if (cred === undefined) return {};
  return { clientId: `${cred.username}-t${randomBytes(4).toString('hex')}`, username: cred.username, password: cred.password };
}
