/** @module @ferry/wasm-host: check, compile and run firmware modules against the device ABI in Node. */
export * from './errors.ts';
export * from './inspect.ts';
export * from './abi-check.ts';
export * from './runtime.ts';
export * from './call-errors.ts';
export * from './call-args.ts';
export * from './function-call.ts';
