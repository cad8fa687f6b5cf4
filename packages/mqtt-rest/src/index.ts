/**
 * @module @ferry/mqtt-rest: REST requests carried over MQTT, MACed both ways with a key of their own. It is
 * the gateway control channel: the cloud reaches the routes of a gateway behind NAT through the connection
 * the gateway opened.
 */
export * from './channel.ts';
export * from './client.ts';
export { newRequestId, REQUEST_ID_PATTERN } from './envelope.ts';
export * from './errors.ts';
export * from './keys.ts';
export * from './no-delay.ts';
export * from './pinned-fetch.ts';
export * from './replay.ts';
export * from './server.ts';
