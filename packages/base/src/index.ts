/** @module @ferry/base: zero-dependency primitives shared by every package (no node: module, no npm package). */
export * from './backoff.ts';
export * from './clock.ts';
export * from './token-bucket.ts';
