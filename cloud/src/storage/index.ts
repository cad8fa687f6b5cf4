/**
 * @module @ferry/cloud/storage: persistent ports for the ingest pipeline (docs/storage.md). SQLite for the
 * embedded default (one WAL file), Redis for N workers (one Lua call per message, per-device hash tags).
 */
export * from './errors.ts';
export * from './ref-codec.ts';
export * from './sqlite/db.ts';
export * from './sqlite/reorder-store.ts';
export * from './sqlite/time-series.ts';
export { RedisReorderStore, type RedisReorderOptions } from './redis/reorder-store.ts';
export { RedisTimeSeries, type RedisTimeSeriesOptions } from './redis/time-series.ts';
export type { RedisClient } from './redis/script.ts';
