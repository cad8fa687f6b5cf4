/** @module @ferry/control: the MQTT control channel between the cloud and gateways behind NAT, and the MQTT socket setting every Ferry client shares. */
export * from './channel.ts';
export * from './no-delay.ts';
