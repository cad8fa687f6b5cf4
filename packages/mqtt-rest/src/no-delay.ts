/**
 * @module Disables Nagle's algorithm on an MQTT client's socket, on every (re)connect. MQTT is small
 * request/response packets; with Nagle and delayed ACKs a QoS 1 exchange waits ~40 ms (measured: 44 ms ->
 * 0.9 ms round trip). Every Ferry MQTT client (gateway uplink, emulated board) goes through here.
 */

/** The part of an mqtt.js MqttClient this touches (structural: an MqttClient fits, nothing is imported). */
export interface NoDelayClient {
  readonly stream?: unknown;
  on(event: 'connect', listener: () => void): unknown;
}

export function noDelay<C extends NoDelayClient>(client: C): C {
  const set = (): void => {
    (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
  };
  client.on('connect', set);
  set();
  return client;
}
