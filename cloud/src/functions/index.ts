/**
 * @module Cloud functions by hash (docs/functions.md): registry, call protocol, runners, tokens, namespaces,
 * schedules. The call contract they speak (FERRY_FN_* errors, FnResult, RunOutput, argument conversion) is
 * @ferry/wasm-host's, shared with a board's local runs.
 */
export * from './registry.ts';
export * from './execute.ts';
export * from './runner.ts';
export * from './in-process-runner.ts';
export * from './pool-runner.ts';
export * from './fair-queue.ts';
export * from './pool-protocol.ts';
export * from './service.ts';
export * from './module-quota.ts';
export * from './tokens/private-token.ts';
export * from './tokens/public-token.ts';
export * from './tokens/owners.ts';
export * from './tokens/principal.ts';
export * from './tokens/revocation.ts';
export { TokenBuckets } from '@ferry/base';
export * from './namespaces/namespace-store.ts';
export * from './namespaces/sorted-state.ts';
export * from './namespaces/overlay.ts';
export * from './schedules/stores.ts';
export * from './schedules/scheduler.ts';
export * from './schedules/timer.ts';
