/** @module @ferry/serial: the board <-> gateway serial protocol (frame codec, payloads, BoardClient). */
export * from './errors.ts';
export * from './frame.ts';
export * from './payloads.ts';
export * from './board-client.ts';
