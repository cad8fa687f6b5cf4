/** @module @ferry/base: zero-dependency primitives shared by every package (the error-catalog helper, the Clock port, back-off, token buckets, the supervisor; no node: module, no npm package). */
export * from './backoff.ts';
export * from './clock.ts';
export * from './errors.ts';
export * from './net.ts';
export * from './token-bucket.ts';
export * from './supervisor.ts';
export * from './incidents.ts';
