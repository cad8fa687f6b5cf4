/** @module @ferry/message: the signed, sequenced envelope (see docs/message-format.md). */
export * from './codec.ts';
export * from './errors.ts';
export { encode as base64urlEncode } from './base64url.ts';
export * from './time-claims.ts';
export * from './downlink.ts';
