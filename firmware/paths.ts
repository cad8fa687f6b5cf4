/** @module Where the firmware build puts its modules (firmware/scripts/build.ts writes them). */
import { fileURLToPath } from 'node:url';

const build = (f: string): string => fileURLToPath(new URL(`./build/${f}`, import.meta.url));
export const THERMOSTAT_WASM = build('thermostat.wasm');
export const THERMOSTAT_DEBUG_WASM = build('thermostat.debug.wasm');
export const HARNESS_WASM = build('harness.wasm');
/** Function modules (firmware/assembly/fn/): run by the board locally, and by the cloud when called by hash. */
export const MIN_TEMPERATURE_WASM = build('fn/min-temperature.wasm');
