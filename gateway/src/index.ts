/** @module @ferry/gateway: the gateway daemon and its parts. */
export * from './daemon/config.ts';
export * from './daemon/daemon.ts';
export * from './uplink/errors.ts';
export * from './daemon/signer.ts';
export * from './daemon/sources.ts';
export * from './uplink/outbox.ts';
export * from './uplink/uplink.ts';
export type * from './sources/types.ts';
export * from './compose/host.ts';
export * from './compose/routes.ts';
export type { SoUplink } from './compose/edge.ts';
export * from './compose/store.ts';
