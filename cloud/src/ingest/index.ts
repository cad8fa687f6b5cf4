/** @module @ferry/cloud/ingest: verify -> anti-replay -> re-order -> store -> dispatch (see docs/ingest.md). */
export * from './counters.ts';
export * from './errors.ts';
export * from './memory-reorder-store.ts';
export * from './memory-time-series.ts';
export * from './pipeline.ts';
export * from './ports.ts';
export * from './reorder.ts';
export * from './reorder-types.ts';
export { isPromise, pointOf, type GroupEventMember, type IngestEvent, type IngestOutcome, type Subscriber } from './steps.ts';
