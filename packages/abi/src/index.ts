/** @module @ferry/abi: the device ABI table, its generated host interface and its error catalog. */
export * from './table.ts';
export * from './errors.ts';
export type { AbiImports, AbiExports, ImportName } from './generated/host.ts';
export { IMPORT_NAMES } from './generated/host.ts';
