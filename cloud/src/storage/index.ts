/**
 * @module @ferry/cloud/storage: the persistent implementations of the cloud's ports (docs/storage.md). SQLite
 * for the embedded default (the ingest file, one WAL file; cloud.db for devices, functions and schedules),
 * Redis for N workers (one Lua call per message, per-device hash tags; function state replicated through
 * pub/sub; schedules and leases shared).
 */
export * from './errors.ts';
export * from './ref-codec.ts';
export * from './sqlite/db.ts';
export * from './sqlite/reorder-store.ts';
export * from './sqlite/time-series.ts';
export * from './sqlite/device-store.ts';
export { sqliteFunctionStores, type SqliteFunctionStoresOptions } from './sqlite/function-stores.ts';
export { SqliteLeaseStore, SqliteScheduleStore } from './sqlite/schedule-stores.ts';
export { RedisReorderStore, type RedisReorderOptions } from './redis/reorder-store.ts';
export { RedisTimeSeries, type RedisTimeSeriesOptions } from './redis/time-series.ts';
export { redisFunctionStores, type RedisFunctionStores, type RedisFunctionStoresOptions } from './redis/function-stores.ts';
export { RedisLeaseStore, RedisScheduleStore } from './redis/schedule-stores.ts';
export type { RedisClient } from './redis/script.ts';
