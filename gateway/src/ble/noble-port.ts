/**
 * @module The typed edge around @stoprocent/noble (raw device imports stay private behind
 * typed wrappers). Only what the BLE source uses is typed: adapter state, scan start/stop and 'discover'.
 * noble is CommonJS and loaded lazily with createRequire, so importing this module (and the tests) never
 * loads the native HCI socket addon unless the default bindings are asked for.
 */
import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';

/** noble's adapter states (index.d.ts AdapterState). */
export type AdapterState = 'poweredOn' | 'poweredOff' | 'unauthorized' | 'unsupported' | 'unknown' | 'resetting';

/** One AD "Service Data" structure as noble's gap parser returns it: uuid as lower-case hex, data after the UUID. */
export interface ServiceData {
  readonly uuid: string;
  readonly data: Uint8Array;
}

export interface Advertisement {
  readonly localName?: string | undefined;
  readonly serviceData?: readonly ServiceData[] | undefined;
}

/** The fields of noble's Peripheral the source reads (lib/peripheral.js). */
export interface Peripheral {
  /** Lower-case address with colons ("a4:c1:38:8d:18:b2") from the HCI bindings. */
  readonly address: string;
  readonly addressType?: string | undefined;
  readonly rssi: number;
  readonly advertisement: Advertisement;
}

/** The part of noble's Noble class (lib/noble.js) the source drives. */
export interface Noble {
  /**
   * Reading it initialises the bindings synchronously if that has not happened yet (lib/noble.js
   * `get state()` -> _initializeBindings -> bindings.start()), so a throwing bindings.start() can be caught
   * instead of surfacing from process.nextTick as an uncaught exception.
   */
  readonly state: AdapterState;
  on(event: 'stateChange', listener: (state: AdapterState) => void): unknown;
  on(event: 'scanStart' | 'scanStop', listener: () => void): unknown;
  on(event: 'discover', listener: (p: Peripheral) => void): unknown;
  removeListener(event: 'stateChange', listener: (state: AdapterState) => void): unknown;
  removeListener(event: 'scanStart' | 'scanStop', listener: () => void): unknown;
  removeListener(event: 'discover', listener: (p: Peripheral) => void): unknown;
  /** Callback form: noble then reports "state is not poweredOn" through the callback instead of throwing. */
  startScanning(serviceUuids: string[], allowDuplicates: boolean, callback: (error?: Error | null) => void): void;
  stopScanning(callback?: () => void): void;
  /** Releases the bindings (HCI socket, process exit handlers). */
  stop(): void;
}

/**
 * What noble expects of a bindings object (lib/noble.js _registerListeners / _initializeBindings): an
 * EventEmitter that emits 'stateChange', 'scanStart', 'scanStop', 'discover' (uuid, address, addressType,
 * connectable, advertisement, rssi, scannable) and accepts these calls. lib/hci-socket/bindings.js is the
 * production one.
 */
export interface NobleBindings extends EventEmitter {
  start(): void;
  stop?(): void;
  startScanning(serviceUuids: string[] | undefined, allowDuplicates: boolean): void;
  stopScanning(): void;
}

/** Options noble passes to the HCI socket bindings (index.d.ts HciBindingsOptions, the scanning subset). */
export interface HciOptions {
  /** hciN; default 0 or NOBLE_HCI_DEVICE_ID. */
  readonly deviceId?: number;
  /** BLE 5 extended scanning; default: what LE_READ_LOCAL_SUPPORTED_FEATURES reports. */
  readonly extended?: boolean;
  /** Exclusive HCI user channel (the adapter must be down and BlueZ must not use it). */
  readonly userChannel?: boolean;
}

const require = createRequire(import.meta.url);

/**
 * Wraps bindings in noble's own Noble class, exactly as noble's lib/resolve-bindings.js does
 * (`return new Noble(bindings)`), so everything above the bindings is noble's real code.
 */
export function nobleWithBindings(bindings: NobleBindings): Noble {
  const NobleClass = require('@stoprocent/noble/lib/noble.js') as new (b: NobleBindings) => Noble;
  return new NobleClass(bindings);
}

/**
 * noble with the bindings it picks for this platform (lib/resolve-bindings.js getDefaultBindings): the HCI
 * socket bindings on Linux (a Raspberry Pi), unless NOBLE_BINDINGS says otherwise. Throws if the native
 * addon cannot be loaded; the source turns that into FERRY_GW_BLE_NOBLE_LOAD.
 */
export function defaultNoble(hci: HciOptions = {}): Noble {
  const withBindings = require('@stoprocent/noble/lib/resolve-bindings.js') as (type: string, options: HciOptions) => Noble;
  return withBindings('default', { ...hci });
}
