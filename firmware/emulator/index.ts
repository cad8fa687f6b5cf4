/** @module @ferry/firmware: the Node emulated board and the firmware's build outputs. */
export * from './board.ts';
export * from './clock.ts';
export * from './rng.ts';
export * from './room.ts';
export * from '../paths.ts';
export * from './online.ts';
export * from './downlink.ts';
export * from './local-function.ts';
export * from './remote.ts';
export * from './namespace-min.ts';
