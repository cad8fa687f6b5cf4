/** @module @ferry/control: the MQTT control channel between the cloud and gateways behind NAT. */
export * from './channel.ts';
export * from './errors.ts';
