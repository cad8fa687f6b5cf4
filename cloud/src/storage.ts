/**
 * @module @ferry/cloud/storage: the persistent implementations of the cloud's ports (docs/storage.md). SQLite
 * for the embedded default (the ingest file, one WAL file; cloud.db for devices, functions and schedules),
 * Redis for N workers (one Lua call per message, per-device hash tags; function state replicated through
 * pub/sub; schedules and leases shared).
 *
 * This entry sits beside index.ts rather than in storage/: it gathers both backends, and both build on what
 * storage/ holds for them (the error catalog, the stored forms), so folders import one way: this file ->
 * storage/sqlite, storage/redis -> storage/.
 */
export * from './storage/errors.ts';
export * from './storage/ref-codec.ts';
export * from './storage/sqlite/db.ts';
export * from './storage/sqlite/reorder-store.ts';
export * from './storage/sqlite/time-series.ts';
export * from './storage/sqlite/device-store.ts';
export { sqliteFunctionStores, type SqliteFunctionStoresOptions } from './storage/sqlite/function-stores.ts';
export { SqliteLeaseStore, SqliteScheduleStore } from './storage/sqlite/schedule-stores.ts';
export { RedisReorderStore, type RedisReorderOptions } from './storage/redis/reorder-store.ts';
export { RedisTimeSeries, type RedisTimeSeriesOptions } from './storage/redis/time-series.ts';
export { redisFunctionStores, type RedisFunctionStores, type RedisFunctionStoresOptions } from './storage/redis/function-stores.ts';
export { RedisLeaseStore, RedisScheduleStore } from './storage/redis/schedule-stores.ts';
export type { RedisClient } from './storage/redis/script.ts';
