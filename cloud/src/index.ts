/** @module @ferry/cloud: the cloud service and its parts. */
export * from './service/service.ts';
export { DEFAULT_PROJECTIONS, type ProjectionRule } from './service/projection.ts';
export * from './devices/registry.ts';
export * from './devices/errors.ts';
export { SqliteDeviceStore } from './storage/sqlite/device-store.ts';
export { rotateMasterKey, type RotateOptions, type RotationResult, type RotationStep } from './keys/rotate-master-key.ts';
