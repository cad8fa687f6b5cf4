/** @module Where the firmware build puts its modules (firmware/scripts/build.ts writes them). */
import { fileURLToPath } from 'node:url';

const build = (f: string): string => fileURLToPath(new URL(`./build/${f}`, import.meta.url));
export const THERMOSTAT_WASM = build('thermostat.wasm');
export const THERMOSTAT_DEBUG_WASM = build('thermostat.debug.wasm');
export const HARNESS_WASM = build('harness.wasm');
