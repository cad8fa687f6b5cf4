/**
 * @module The serial error catalog (6000-6999): every way a frame or a request can be refused has one code
 * FERRY_SERIAL_* and one number. The C board uses the same numbers (firmware/host/src/frame.h) and
 * errors.test.ts keeps the two in step; docs/errors.md lists every catalog.
 */
import { defineErrors } from '@ferry/base';

const SERIAL = defineErrors(
  'FERRY_SERIAL_',
  [6000, 6999],
  {
    FERRY_SERIAL_CRC: { num: 6001, status: 400, doc: "the frame's CRC-32 does not match: corrupted on the line" },
    FERRY_SERIAL_COBS: { num: 6002, status: 400, doc: 'the bytes between two delimiters are not valid COBS' },
    FERRY_SERIAL_TOO_LARGE: { num: 6003, status: 413, doc: 'the frame is longer than the maximum frame size (dropped up to the next delimiter)' },
    FERRY_SERIAL_TOO_SHORT: { num: 6004, status: 400, doc: 'the frame is shorter than header + CRC (8 bytes)' },
    FERRY_SERIAL_VERSION: { num: 6005, status: 400, doc: 'the frame is intact but speaks another protocol version' },
    FERRY_SERIAL_UNKNOWN_KIND: { num: 6006, status: 400, doc: 'the frame kind is unknown, or not one this side accepts' },
    FERRY_SERIAL_BAD_PAYLOAD: { num: 6007, status: 400, doc: 'the payload has the wrong length or invalid fields for its kind' },
    FERRY_SERIAL_UPLOAD_NOT_STARTED: { num: 6101, status: 409, doc: 'a chunk or commit arrived with no upload in progress' },
    FERRY_SERIAL_UPLOAD_OFFSET: { num: 6102, status: 409, doc: 'a chunk is not at the next expected offset (chunks go in order)' },
    FERRY_SERIAL_UPLOAD_SIZE: { num: 6103, status: 413, doc: 'the module size is 0 or larger than a slot, or a chunk passes the announced size' },
    FERRY_SERIAL_UPLOAD_INCOMPLETE: { num: 6104, status: 409, doc: 'commit before every announced byte arrived; the upload is dropped' },
    FERRY_SERIAL_UPLOAD_HASH: { num: 6105, status: 422, doc: 'the SHA-256 of the received bytes differs from the announced one; the upload is dropped' },
    FERRY_SERIAL_UPLOAD_REJECTED: {
      num: 6106,
      status: 422,
      doc: 'the module does not load, its imports differ from the ABI, abi_version differs, or boot() failed; the old module keeps running',
    },
    FERRY_SERIAL_STORAGE: { num: 6107, status: 507, doc: 'the board could not write its module storage or boot record' },
    FERRY_SERIAL_NOT_SUPPORTED: { num: 6201, status: 501, doc: 'test-control frames are refused: a real board, or a posix board without --test-control' },
    FERRY_SERIAL_MODULE_TRAP: { num: 6202, status: 422, doc: 'the module trapped during the request; it must be rebooted (a new epoch)' },
    FERRY_SERIAL_NO_MODULE: { num: 6203, status: 409, doc: 'no module is running (none uploaded, no factory module, or boot failed)' },
    FERRY_SERIAL_STATE: { num: 6204, status: 429, doc: 'the state write was refused (key quota exceeded)' },
    FERRY_SERIAL_TIMEOUT: { num: 6301, status: 504, doc: 'client side: no reply within the timeout' },
    FERRY_SERIAL_CLOSED: { num: 6302, status: 503, doc: 'client side: the port closed while a request was pending' },
    FERRY_SERIAL_UNEXPECTED_REPLY: { num: 6303, status: 502, doc: 'client side: the reply has the wrong kind or payload for the request' },
  },
  { package: '@ferry/serial', errorName: 'SerialError' },
);

export const SERIAL_ERRORS = SERIAL.codes;
export type SerialErrorCode = keyof typeof SERIAL_ERRORS;

/** The catalog code for a number on the wire (a NACK), if it is one. */
export const codeOf = (num: number): SerialErrorCode | undefined => SERIAL.codeOf(num);

export class SerialError extends SERIAL.Error {}
