/**
 * @module The message error catalog (2000-2999): every way a token can be refused has one code (FERRY_MSG_*),
 * one number and one HTTP status. docs/errors.md lists every catalog.
 */
import { defineErrors, type Result as BaseResult } from '@ferry/base';

const MSG = defineErrors(
  'FERRY_MSG_',
  [2000, 2999],
  {
    FERRY_MSG_TOO_LARGE: { num: 2001, status: 413, doc: 'the token is longer than MAX_TOKEN_BYTES (checked before anything is decoded)' },
    FERRY_MSG_SEGMENTS: { num: 2002, status: 400, doc: 'the token does not have exactly three dot-separated segments' },
    FERRY_MSG_HEADER_ENCODING: {
      num: 2003,
      status: 400,
      doc: 'the header segment is not canonical base64url (RFC 7515 §2, RFC 4648 §5: no padding, no + or /, zero trailing bits)',
    },
    FERRY_MSG_BODY_ENCODING: { num: 2004, status: 400, doc: 'the body segment is not canonical base64url' },
    FERRY_MSG_SIGNATURE_ENCODING: { num: 2005, status: 400, doc: 'the signature segment is not canonical base64url' },
    FERRY_MSG_SIGNATURE_LENGTH: { num: 2006, status: 400, doc: 'the signature is not 32 bytes (HMAC-SHA256)' },
    FERRY_MSG_HEADER_JSON: { num: 2007, status: 400, doc: 'the header is not UTF-8 JSON text of an object' },
    FERRY_MSG_BODY_JSON: { num: 2008, status: 400, doc: 'the body is not UTF-8 JSON text of an object' },
    FERRY_MSG_ALG: { num: 2009, status: 400, doc: 'alg is missing or not HS256 ("none" and every other algorithm are refused, RFC 8725 §3.1)' },
    FERRY_MSG_TYP: { num: 2010, status: 400, doc: 'typ is present and is not "JWT"' },
    FERRY_MSG_CRIT: { num: 2011, status: 400, doc: 'the header has a crit parameter; Ferry understands no extensions (RFC 7515 §4.1.11)' },
    FERRY_MSG_MISSING_FIELD: { num: 2012, status: 400, doc: 'a required header field (kid, ep, sq) is missing' },
    FERRY_MSG_FIELD_RANGE: { num: 2013, status: 400, doc: 'a header field has the wrong type or is out of range (kid syntax, ep/sq not uint32, group fields)' },
    FERRY_MSG_CLAIMS: { num: 2014, status: 400, doc: 'the claim set is invalid: iss missing or not equal to kid, iat not a number' },
    FERRY_MSG_UNKNOWN_KEY: { num: 2015, status: 401, doc: "no key is known for the token's kid" },
    FERRY_MSG_BAD_SIGNATURE: { num: 2016, status: 401, doc: 'the HMAC does not match: the token was altered or signed with another key' },
    FERRY_MSG_ENCODE_INPUT: { num: 2017, status: 500, doc: 'encode was given a header or claims that would not make a valid message' },
    FERRY_MSG_EXPIRED: { num: 2018, status: 401, doc: 'the token has an exp claim and the time is past it, beyond the leeway (RFC 7519 §4.1.4)' },
    FERRY_MSG_NOT_YET_VALID: { num: 2019, status: 401, doc: 'the token has an nbf claim and the time is before it, beyond the leeway (RFC 7519 §4.1.5)' },
    FERRY_MSG_WRONG_ISSUER: {
      num: 2020,
      status: 401,
      doc: 'a downlink message whose kid is not the cloud (ferry-cloud): an uplink, or a message of another source',
    },
    FERRY_MSG_WRONG_AUDIENCE: { num: 2021, status: 401, doc: 'a downlink message whose aud is not the receiving device (RFC 7519 §4.1.3)' },
    FERRY_MSG_WRONG_EVENT: {
      num: 2022,
      status: 400,
      doc: 'a downlink message whose ev is not a known downlink event, or not the one expected where it arrived',
    },
  },
  { package: '@ferry/message', errorName: 'MessageError' },
);

export const MESSAGE_ERRORS = MSG.codes;
export type MessageErrorCode = keyof typeof MESSAGE_ERRORS;

export class MessageError extends MSG.Error {}

export type Result<T> = BaseResult<T, MessageError>;

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(code: MessageErrorCode, detail: string): Result<T> => ({ ok: false, error: new MessageError(code, detail) });
