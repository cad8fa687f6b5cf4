/**
 * @module The BLE source error catalog: every way the BLE scanner can fail has one code FERRY_GW_BLE_* and
 * one number in 5200-5299 (STYLE.md §4). Adverts the BTHome decoder refuses keep their own FERRY_DECODE_*
 * codes (gateway/src/decoders/errors.ts). docs/ble.md lists these codes and errors.test.ts keeps the two in
 * step. Runtime problems go to `sink.problem`, never thrown; only bad constructor options throw (that is
 * configuration time, as for the serial sources).
 */
import type { SourceProblem } from '../sources/types.ts';

export const BLE_ERRORS = {
  FERRY_GW_BLE_BAD_OPTIONS: { numeric: 5201, doc: 'the source options are invalid (a bind key that is not 16 bytes of hex, a MAC that is not six bytes, a non-positive duration); thrown by the constructor' },
  FERRY_GW_BLE_NOBLE_LOAD: { numeric: 5202, doc: 'the noble library or its HCI socket bindings could not be loaded (native module missing for this platform); the source stays down' },
  FERRY_GW_BLE_ADAPTER_OFF: { numeric: 5203, doc: 'the Bluetooth adapter left the poweredOn state (poweredOff, resetting, unknown: rfkill, hciconfig down, USB dongle unplugged); scanning resumes when it is back' },
  FERRY_GW_BLE_UNAUTHORIZED: { numeric: 5204, doc: 'the process may not open the HCI socket: it needs CAP_NET_RAW and CAP_NET_ADMIN (see "Permissions"); retried with back-off' },
  FERRY_GW_BLE_UNSUPPORTED: { numeric: 5205, doc: 'no usable adapter: no HCI device, the controller has no Bluetooth Low Energy, or the HCI socket cannot be created; retried with back-off' },
  FERRY_GW_BLE_SCAN_FAILED: { numeric: 5206, doc: 'noble refused to start scanning (the message names its error); retried with back-off' },
  FERRY_GW_BLE_SCAN_STALLED: { numeric: 5207, doc: 'no advert at all for quietMs while scanning should be on; the watchdog stopped and restarted scanning' },
  FERRY_GW_BLE_SCAN_STOPPED: { numeric: 5208, doc: 'scanning stopped without the source asking (another process such as bluetoothd disabled it); restarted with back-off' },
  FERRY_GW_BLE_INTERNAL: { numeric: 5209, doc: 'an exception from noble or from the sink was caught in the scan callback; the advert is dropped and the source keeps running' },
} as const;

export type BleErrorCode = keyof typeof BLE_ERRORS;

/** Thrown only for invalid options (FERRY_GW_BLE_BAD_OPTIONS). */
export class BleSourceError extends Error {
  readonly code: BleErrorCode;
  readonly numeric: number;
  constructor(code: BleErrorCode, detail: string) {
    super(`${code}: ${detail}`);
    this.name = 'BleSourceError';
    this.code = code;
    this.numeric = BLE_ERRORS[code].numeric;
  }
}

/** A problem for `sink.problem`, message prefixed with its code like the thrown errors. */
export const bleProblem = (code: BleErrorCode, detail: string, device?: string): SourceProblem =>
  device === undefined ? { code, message: `${code}: ${detail}` } : { code, message: `${code}: ${detail}`, device };
