/** @module @ferry/cloud: the cloud service and its parts. */
export * from './service/service.ts';
export { DEFAULT_PROJECTIONS, type ProjectionRule } from './service/projection.ts';
export * from './devices/registry.ts';
export * from './devices/errors.ts';
export { SqliteDeviceStore } from './storage/sqlite/device-store.ts';
export { rotateMasterKey, type RotateOptions, type RotationResult, type RotationStep } from './keys/rotate-master-key.ts';
// The composite-stream engine's JavaScript port on the QuickJS sandbox (docs/composite-streams.md), for hosts.
export { sandboxJsRunner } from './compose/js-runner.ts';
export type { Caller, HostedOutput, SoHosting } from './compose/hosting.ts';
export { COMPOSE_HISTORY_CAP, SqliteComposeStore } from './storage/sqlite/compose-store.ts';
export { RedisComposeStore } from './storage/redis/compose-store.ts';
