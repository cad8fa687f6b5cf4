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
export { LeasedHosting } from './compose/scale-out/leases.ts';
export { COMPOSE_HISTORY_CAP, SqliteComposeStore } from './storage/sqlite/compose-store.ts';
export { RedisComposeStore } from './storage/redis/compose-store.ts';
// Notifications (docs/notifications.md): the event every part reports through CloudService.notify, and what a webhook receiver verifies.
export type { NotifyEvent, Priority as NotifyPriority } from './notify/types.ts';
export { Notifier, NOTIFY_LIMITS } from './notify/notifier.ts';
export { DELIVERY_HEADER, SIGNATURE_HEADER, verifyWebhook } from './notify/channel-webhook.ts';
export { NotifyError, NOTIFY_ERRORS } from './notify/errors.ts';
export { SqliteNotifyStore } from './storage/sqlite/notify-store.ts';
export { RedisNotifyStore } from './storage/redis/notify-store.ts';
