/**
 * @module @ferry/mqtt-rest: REST requests carried over MQTT, signed both ways. It is the gateway control
 * channel: the cloud reaches the routes of a gateway behind NAT through the connection the gateway opened.
 */
export * from './channel.ts';
export * from './errors.ts';
export * from './no-delay.ts';
export * from './pinned-fetch.ts';
