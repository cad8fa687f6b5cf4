/**
 * @module The BLE source error catalog (5200-5299): every way the BLE scanner can fail has one code
 * FERRY_GW_BLE_* and one number. Adverts the BTHome decoder refuses keep their own FERRY_DECODE_* codes
 * (gateway/src/decoders/errors.ts). docs/errors.md lists every catalog. Runtime problems go to
 * `sink.problem`, never thrown; only bad constructor options throw (that is configuration time, as for the
 * serial sources).
 */
import { defineErrors } from '@ferry/base';
import type { SourceProblem } from '../sources/types.ts';

const BLE = defineErrors(
  'FERRY_GW_BLE_',
  [5200, 5299],
  {
    FERRY_GW_BLE_BAD_OPTIONS: {
      num: 5201,
      status: 400,
      doc: 'the source options are invalid (a bind key that is not 16 bytes of hex, a MAC that is not six bytes, a non-positive duration); thrown by the constructor',
    },
    FERRY_GW_BLE_NOBLE_LOAD: {
      num: 5202,
      status: 503,
      doc: 'the noble library or its HCI socket bindings could not be loaded (native module missing for this platform); the source stays down',
    },
    FERRY_GW_BLE_ADAPTER_OFF: {
      num: 5203,
      status: 503,
      doc: 'the Bluetooth adapter left the poweredOn state (poweredOff, resetting, unknown: rfkill, hciconfig down, USB dongle unplugged); scanning resumes when it is back',
    },
    FERRY_GW_BLE_UNAUTHORIZED: {
      num: 5204,
      status: 503,
      doc: 'the process may not open the HCI socket: it needs CAP_NET_RAW and CAP_NET_ADMIN (see "Permissions"); retried with back-off',
    },
    FERRY_GW_BLE_UNSUPPORTED: {
      num: 5205,
      status: 503,
      doc: 'no usable adapter: no HCI device, the controller has no Bluetooth Low Energy, or the HCI socket cannot be created; retried with back-off',
    },
    FERRY_GW_BLE_SCAN_FAILED: { num: 5206, status: 503, doc: 'noble refused to start scanning (the message names its error); retried with back-off' },
    FERRY_GW_BLE_SCAN_STALLED: {
      num: 5207,
      status: 503,
      doc: 'no advert at all for quietMs while scanning should be on; the watchdog stopped and restarted scanning',
    },
    FERRY_GW_BLE_SCAN_STOPPED: {
      num: 5208,
      status: 503,
      doc: 'scanning stopped without the source asking (another process such as bluetoothd disabled it); restarted with back-off',
    },
    FERRY_GW_BLE_INTERNAL: {
      num: 5209,
      status: 500,
      doc: 'an exception from noble or from the sink was caught in the scan callback; the advert is dropped and the source keeps running',
    },
    FERRY_GW_BLE_REPLAY_SAVE: {
      num: 5210,
      status: 507,
      doc: 'an accepted replay counter could not be written to ble-replay.db (full disk, I/O error); the advert is still decoded, the counter is kept in memory',
    },
  },
  { package: '@ferry/gateway', errorName: 'BleSourceError' },
);

export const BLE_ERRORS = BLE.codes;
export type BleErrorCode = keyof typeof BLE_ERRORS;

/** Thrown only for invalid options (FERRY_GW_BLE_BAD_OPTIONS). */
export class BleSourceError extends BLE.Error {}

/** A problem for `sink.problem`, message prefixed with its code like the thrown errors. */
export const bleProblem = (code: BleErrorCode, detail: string, device?: string): SourceProblem =>
  device === undefined ? { code, message: `${code}: ${detail}` } : { code, message: `${code}: ${detail}`, device };
