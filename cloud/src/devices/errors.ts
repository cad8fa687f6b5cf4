/**
 * @module The device registry's error catalog (4700-4799): every way adding, removing or keying a device is
 * refused has one code (FERRY_DEVICE_*), one number and one HTTP status (what POST /api/devices answers).
 * docs/errors.md lists every catalog.
 */
import { defineErrors } from '@ferry/base';

const DEVICE = defineErrors(
  'FERRY_DEVICE_',
  [4700, 4799],
  {
    FERRY_DEVICE_EXISTS: { num: 4701, status: 409, doc: 'a device with this id is registered; remove it first to re-key' },
    FERRY_DEVICE_BAD_ID: { num: 4702, status: 400, doc: 'a device id or namespace is not 1..32 characters of [A-Za-z0-9._-]' },
    FERRY_DEVICE_NOT_FOUND: { num: 4703, status: 404, doc: 'no device with this id, on removal' },
    FERRY_DEVICE_MASTER_KEY: {
      num: 4704,
      status: 500,
      doc: 'the master key is not 32 bytes of hex (at start-up: the service does not start, never in a reply)',
    },
    FERRY_DEVICE_BAD_KIND: { num: 4705, status: 400, doc: "a kind other than 'device' or 'gateway'" },
    FERRY_DEVICE_BAD_GATEWAY: {
      num: 4706,
      status: 409,
      doc: 'a board attached to something that is not a registered gateway of the same owner (or a gateway attached to one)',
    },
    // The master key's rotation (keys/rotate-master-key.ts, docs/cloud.md "Rotating the master key").
    FERRY_DEVICE_DATA_DIR_BUSY: {
      num: 4780,
      status: 409,
      doc: 'the data directory is in use: a running cloud refuses a master key rotation, a rotation refuses a starting cloud',
    },
    FERRY_DEVICE_ROTATION_UNFINISHED: {
      num: 4781,
      status: 500,
      doc: 'a master key rotation was interrupted: the cloud does not start until `ferry cloud rotate-master-key` is run again',
    },
    FERRY_DEVICE_UNOPENABLE: {
      num: 4782,
      status: 500,
      doc: 'a sealed row (or the rotation record) opens under neither the current nor the new master key; the rotation changes nothing',
    },
  },
  { package: '@ferry/cloud', errorName: 'DeviceError' },
);

export const DEVICE_ERRORS = DEVICE.codes;
export type DeviceErrorCode = keyof typeof DEVICE_ERRORS;

export class DeviceError extends DEVICE.Error {}
