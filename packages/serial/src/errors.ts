/**
 * @module The serial error catalog (6xxx): every way a frame or a request can be refused has one code
 * FERRY_SERIAL_* and one number (STYLE.md §4). The C board uses the same numbers (firmware/host/src/
 * frame.h); docs/serial-protocol.md lists them and errors.test.ts keeps the three in step.
 */
export const SERIAL_ERRORS = {
  FERRY_SERIAL_CRC: { num: 6001, doc: 'the frame\'s CRC-32 does not match: corrupted on the line' },
  FERRY_SERIAL_COBS: { num: 6002, doc: 'the bytes between two delimiters are not valid COBS' },
  FERRY_SERIAL_TOO_LARGE: { num: 6003, doc: 'the frame is longer than the maximum frame size (dropped up to the next delimiter)' },
  FERRY_SERIAL_TOO_SHORT: { num: 6004, doc: 'the frame is shorter than header + CRC (8 bytes)' },
  FERRY_SERIAL_VERSION: { num: 6005, doc: 'the frame is intact but speaks another protocol version' },
  FERRY_SERIAL_UNKNOWN_KIND: { num: 6006, doc: 'the frame kind is unknown, or not one this side accepts' },
  FERRY_SERIAL_BAD_PAYLOAD: { num: 6007, doc: 'the payload has the wrong length or invalid fields for its kind' },
  FERRY_SERIAL_UPLOAD_NOT_STARTED: { num: 6101, doc: 'a chunk or commit arrived with no upload in progress' },
  FERRY_SERIAL_UPLOAD_OFFSET: { num: 6102, doc: 'a chunk is not at the next expected offset (chunks go in order)' },
  FERRY_SERIAL_UPLOAD_SIZE: { num: 6103, doc: 'the module size is 0 or larger than a slot, or a chunk passes the announced size' },
  FERRY_SERIAL_UPLOAD_INCOMPLETE: { num: 6104, doc: 'commit before every announced byte arrived; the upload is dropped' },
  FERRY_SERIAL_UPLOAD_HASH: { num: 6105, doc: 'the SHA-256 of the received bytes differs from the announced one; the upload is dropped' },
  FERRY_SERIAL_UPLOAD_REJECTED: { num: 6106, doc: 'the module does not load, its imports differ from the ABI, abi_version differs, or boot() failed; the old module keeps running' },
  FERRY_SERIAL_STORAGE: { num: 6107, doc: 'the board could not write its module storage or boot record' },
  FERRY_SERIAL_NOT_SUPPORTED: { num: 6201, doc: 'test-control frames are refused: a real board, or a posix board without --test-control' },
  FERRY_SERIAL_MODULE_TRAP: { num: 6202, doc: 'the module trapped during the request; it must be rebooted (a new epoch)' },
  FERRY_SERIAL_NO_MODULE: { num: 6203, doc: 'no module is running (none uploaded, no factory module, or boot failed)' },
  FERRY_SERIAL_STATE: { num: 6204, doc: 'the state write was refused (key quota exceeded)' },
  FERRY_SERIAL_TIMEOUT: { num: 6301, doc: 'client side: no reply within the timeout' },
  FERRY_SERIAL_CLOSED: { num: 6302, doc: 'client side: the port closed while a request was pending' },
  FERRY_SERIAL_UNEXPECTED_REPLY: { num: 6303, doc: 'client side: the reply has the wrong kind or payload for the request' },
} as const;

export type SerialErrorCode = keyof typeof SERIAL_ERRORS;

const BY_NUM = new Map<number, SerialErrorCode>(Object.entries(SERIAL_ERRORS).map(([k, v]) => [v.num, k as SerialErrorCode]));

/** The catalog code for a number on the wire (a NACK), if it is one. */
export const codeOf = (num: number): SerialErrorCode | undefined => BY_NUM.get(num);

export class SerialError extends Error {
  readonly code: SerialErrorCode;
  readonly num: number;
  constructor(code: SerialErrorCode, detail: string) {
    super(`${code}: ${detail}`);
    this.name = 'SerialError';
    this.code = code;
    this.num = SERIAL_ERRORS[code].num;
  }
}
