/**
 * @module The gateway's BLE source: BleSource (noble scanning -> BTHome decoding -> Readings), its error
 * catalog and the typed noble edge. docs/ble.md.
 */
export { BleSource, type BleSourceOptions } from './ble-source.ts';
export { BLE_ERRORS, BleSourceError, bleProblem, type BleErrorCode } from './errors.ts';
export { BTHOME_UUID, bthomeServiceData, Deduper, normalizeMac, toReading } from '../bthome/advert.ts';
export { backoffDelay, type Backoff } from './scan-control.ts';
export type { AdapterState, HciOptions, NobleBindings } from './noble-port.ts';
export { bleSourceOptions, bleSources, type BleConfigSection, type BleRuntime } from './config.ts';
