/**
 * @module The decoder error catalog (5000-5199): every way a sensor frame or advert can be refused has one
 * code (FERRY_DECODE_*) and one number. 50xx: input and framing shared by all decoders; 51xx: BTHome.
 * docs/errors.md lists every catalog. Decoders never throw: they return a DecodeResult whose error is a
 * DecodeError.
 */
import { defineErrors, type Result } from '@ferry/base';

const DECODE = defineErrors(
  'FERRY_DECODE_',
  [5000, 5199],
  {
    FERRY_DECODE_HEX_ODD_LENGTH: { num: 5001, status: 400, doc: 'hex text has an odd number of digits, so it is not whole bytes' },
    FERRY_DECODE_HEX_INVALID_CHAR: { num: 5002, status: 400, doc: 'hex text has a character that is not a hex digit (the position is named)' },
    FERRY_DECODE_TRUNCATED: { num: 5003, status: 400, doc: 'the input ends before the frame, header or object it announces is complete' },
    FERRY_DECODE_TRAILING_BYTES: { num: 5004, status: 400, doc: 'a single-frame decode was given bytes after the end of the frame' },
    FERRY_DECODE_BAD_HEADER: { num: 5005, status: 400, doc: 'the frame does not start with its start bytes (PMS5003 0x42 0x4D, MH-Z19 0xFF)' },
    FERRY_DECODE_BAD_LENGTH: { num: 5006, status: 400, doc: 'the frame length field is not the value the datasheet fixes (PMS5003: 28)' },
    FERRY_DECODE_BAD_CHECKSUM: { num: 5007, status: 400, doc: 'the frame checksum does not match its bytes (expected and received values are named)' },
    FERRY_DECODE_UNKNOWN_KIND: { num: 5008, status: 400, doc: 'decode() was asked for a format it does not know (bthome, pms5003, mhz19)' },
    FERRY_DECODE_OUT_OF_RANGE: { num: 5009, status: 400, doc: 'an encoder or command builder was given a value that does not fit the field' },
    FERRY_DECODE_IMPLAUSIBLE: {
      num: 5010,
      status: 400,
      doc: "a frame whose checksum matches but whose content cannot be a real answer (an unknown command byte, a value beyond the sensor's range): noise that passed an 8-bit checksum",
    },
    FERRY_DECODE_UNASKED: {
      num: 5011,
      status: 400,
      doc: 'a request/response sensor (MH-Z19) sent a measurement while no request was outstanding: noise, or an answer that came too late',
    },
    FERRY_DECODE_BAD_VERSION: { num: 5101, status: 400, doc: 'the BTHome device information byte names a version other than 2' },
    FERRY_DECODE_UNKNOWN_OBJECT: {
      num: 5102,
      status: 400,
      doc: 'a BTHome object id is not in the object table; its length is unknown, so parsing stops there: the objects before it are kept, the rest of the advert is skipped (reported as a problem, not a refusal)',
    },
    FERRY_DECODE_OBJECT_ORDER: { num: 5103, status: 400, doc: 'BTHome object ids are not in numerical order (low to high), as the format requires' },
    FERRY_DECODE_BAD_TEXT: { num: 5104, status: 400, doc: 'a BTHome text object (0x53) is not valid UTF-8' },
    FERRY_DECODE_KEY_REQUIRED: { num: 5105, status: 400, doc: 'the BTHome advert is encrypted and no bind key was given' },
    FERRY_DECODE_MAC_REQUIRED: { num: 5106, status: 400, doc: 'the BTHome advert is encrypted and no MAC address was given for the nonce' },
    FERRY_DECODE_BAD_KEY: { num: 5107, status: 400, doc: 'the bind key is not 16 bytes (AES-128)' },
    FERRY_DECODE_BAD_MAC_ADDRESS: { num: 5108, status: 400, doc: 'the MAC address is not six hex bytes (AA:BB:CC:DD:EE:FF)' },
    FERRY_DECODE_BAD_MIC: { num: 5109, status: 401, doc: 'AES-CCM authentication failed: wrong bind key, wrong MAC, or altered advert' },
    FERRY_DECODE_REPLAYED: { num: 5110, status: 409, doc: 'the encryption counter is not greater than the last one accepted for this MAC' },
    FERRY_DECODE_NOT_ENCRYPTED: { num: 5111, status: 400, doc: 'a bind key was given but the advert is not encrypted (downgrade refused)' },
  },
  { package: '@ferry/gateway', errorName: 'DecodeError' },
);

export const DECODE_ERRORS = DECODE.codes;
export type DecodeErrorCode = keyof typeof DECODE_ERRORS;

export class DecodeError extends DECODE.Error {}

export type DecodeResult<T> = Result<T, DecodeError>;

export const ok = <T>(value: T): DecodeResult<T> => ({ ok: true, value });
export const fail = <T = never>(code: DecodeErrorCode, detail: string): DecodeResult<T> => ({
  ok: false,
  error: new DecodeError(code, detail),
});

/** Two-digit upper-case hex of a byte, for messages: 0x3A. */
export const hexByte = (n: number): string => `0x${n.toString(16).toUpperCase().padStart(2, '0')}`;
