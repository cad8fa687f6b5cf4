/**
 * @module Writes packages/message/fixtures/{valid,error}/*.json, the envelope's spec by example.
 * Valid tokens come from the TS encoder and are checked independently in tests (jose verifies each one and
 * decodes the same header and claims; the AssemblyScript builder must reproduce each byte for byte).
 * Error tokens are built by hand from raw segments, each meant to trip exactly one catalog code.
 * Run: npx tsx packages/message/scripts/make-fixtures.ts
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode, headerJson, type Message } from '../src/codec.ts';
import { encode as b64 } from '../src/base64url.ts';
import type { MessageErrorCode } from '../src/errors.ts';
import { hmacKey } from '../src/node-hmac.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), '../fixtures');
const KEY_HEX = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
const OTHER_KEY_HEX = 'f0e0d0c0b0a090807060504030201000f1e1d1c1b1a191817161514131211101';
const key = hmacKey(Buffer.from(KEY_HEX, 'hex'));
const keys = { 'th-01': KEY_HEX, 'room.kitchen_2': KEY_HEX, 'gw-9': KEY_HEX };
const text = (s: string): string => b64(new TextEncoder().encode(s));

const valid: Record<string, { description: string; message: Message }> = {
  'boot': {
    description: 'a thermostat registers for boot epoch 1; sequence starts at 0',
    message: { header: { kid: 'th-01', ep: 1, sq: 0 }, claims: { iss: 'th-01', iat: 1767225600, ev: 'boot', d: { abi: 1, app: 'thermostat' } } },
  },
  'telemetry': {
    description: 'telemetry with fixed-point decimals, an integer and a boolean',
    message: { header: { kid: 'th-01', ep: 1, sq: 1 }, claims: { iss: 'th-01', iat: 1767225610, ev: 'tel', d: { t: 21.5, tmin: 19.87, sp: 21, heat: false } } },
  },
  'decision': {
    description: 'a furnace decision with its reason',
    message: {
      header: { kid: 'th-01', ep: 3, sq: 42 },
      claims: { iss: 'th-01', iat: 1767225700, ev: 'dec', d: { heat: true, why: 'below setpoint - hysteresis', t: 19.74, sp: 20.5 } },
    },
  },
  'group-part': {
    description: 'part 1 of 3 of a multi-part event (group 7); arrays and negative numbers',
    message: {
      header: { kid: 'gw-9', ep: 12, sq: 7, group: { id: 7, part: 1, parts: 3 } },
      claims: { iss: 'gw-9', iat: 1767225800, ev: 'chunk', d: { n: [1, -2, 3.25, -0.5], tags: ['a', 'b'], empty: [], nested: [[1], { x: null }] } },
    },
  },
  'limits': {
    description: 'largest epoch and sequence, kid with every allowed punctuation, iat 0',
    message: {
      header: { kid: 'room.kitchen_2', ep: 4294967295, sq: 4294967295 },
      claims: { iss: 'room.kitchen_2', iat: 0, ev: 'tel', d: { t: -40, big: 9007199254740991, small: 0.000001, zero: 0 } },
    },
  },
  'escapes': {
    description: 'strings that need JSON escapes, and UTF-8 beyond ASCII',
    message: {
      header: { kid: 'th-01', ep: 2, sq: 5 },
      claims: {
        iss: 'th-01',
        iat: 1767225900,
        ev: 'log',
        d: { msg: 'quote " backslash \\ newline \n tab \t cr \r bell \u0007 nul \u0000 del \u007f', utf8: 'Grüße ☃ 😀', sep: '\u2028' },
      },
    },
  },
  'large': {
    description: 'close to MAX_TOKEN_BYTES',
    message: {
      header: { kid: 'th-01', ep: 2, sq: 6 },
      claims: { iss: 'th-01', iat: 1767226000, ev: 'dump', d: { blob: 'x'.repeat(1340), empty: {}, t: true, f: false, n: null } },
    },
  },
};

/** Signs raw header/body text (possibly invalid on purpose) with the fixture key. */
function rawToken(headerText: string, bodyText: string, k = key): string {
  const input = `${text(headerText)}.${text(bodyText)}`;
  return `${input}.${b64(k.mac(new TextEncoder().encode(input)))}`;
}
const goodHeader = headerJson({ kid: 'th-01', ep: 1, sq: 2 });
const goodBody = JSON.stringify({ iss: 'th-01', iat: 1767225600, ev: 'tel', d: { t: 20 } });
const good = rawToken(goodHeader, goodBody);
const [gh, gb, gs] = good.split('.') as [string, string, string];
const flip = (s: string, i: number): string => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);

const errors: Record<string, { description: string; token: string; code: MessageErrorCode }> = {
  'too-large': { description: 'one byte over MAX_TOKEN_BYTES', token: good + 'A'.repeat(2049 - good.length), code: 'FERRY_MSG_TOO_LARGE' },
  'two-segments': { description: 'header.body with no signature segment', token: `${gh}.${gb}`, code: 'FERRY_MSG_SEGMENTS' },
  'four-segments': { description: 'a JWE-like five-part or extra dot', token: `${good}.${gs}`, code: 'FERRY_MSG_SEGMENTS' },
  'header-padding': { description: 'base64 padding is not allowed in JWS (RFC 7515 §2)', token: `${gh}=.${gb}.${gs}`, code: 'FERRY_MSG_HEADER_ENCODING' },
  'header-plus': {
    description: 'a standard-base64 character (+) instead of base64url',
    token: `+${gh.slice(1)}.${gb}.${gs}`,
    code: 'FERRY_MSG_HEADER_ENCODING',
  },
  'header-noncanonical': {
    description: 'trailing bits not zero: the same bytes spelt differently must not verify',
    token: `${text('{"alg":"HS256","kid":"th-01","ep":1,"sq":2}').slice(0, -1)}F.${gb}.${gs}`,
    code: 'FERRY_MSG_HEADER_ENCODING',
  },
  'header-not-json': { description: 'header is not JSON', token: rawToken('alg=HS256', goodBody), code: 'FERRY_MSG_HEADER_JSON' },
  'header-array': { description: 'header is JSON but not an object', token: rawToken('["HS256"]', goodBody), code: 'FERRY_MSG_HEADER_JSON' },
  'header-bad-utf8': {
    description: 'header bytes are not UTF-8',
    token: `${b64(new Uint8Array([0x7b, 0xff, 0x7d]))}.${gb}.${gs}`,
    code: 'FERRY_MSG_HEADER_JSON',
  },
  'alg-none': {
    description: 'the unsecured JWS (alg "none", empty signature, RFC 7519 §6.1) is refused',
    token: `${text('{"alg":"none","typ":"JWT","kid":"th-01","ep":1,"sq":2}')}.${gb}.`,
    code: 'FERRY_MSG_ALG',
  },
  'alg-hs512': { description: 'another algorithm', token: rawToken('{"alg":"HS512","kid":"th-01","ep":1,"sq":2}', goodBody), code: 'FERRY_MSG_ALG' },
  'alg-missing': { description: 'no alg', token: rawToken('{"typ":"JWT","kid":"th-01","ep":1,"sq":2}', goodBody), code: 'FERRY_MSG_ALG' },
  'typ-other': {
    description: 'typ other than JWT',
    token: rawToken('{"alg":"HS256","typ":"JOSE+JSON","kid":"th-01","ep":1,"sq":2}', goodBody),
    code: 'FERRY_MSG_TYP',
  },
  'crit': {
    description: 'a critical extension we do not understand',
    token: rawToken('{"alg":"HS256","crit":["exp"],"kid":"th-01","ep":1,"sq":2}', goodBody),
    code: 'FERRY_MSG_CRIT',
  },
  'missing-seq': { description: 'no sq', token: rawToken('{"alg":"HS256","typ":"JWT","kid":"th-01","ep":1}', goodBody), code: 'FERRY_MSG_MISSING_FIELD' },
  'missing-kid': { description: 'no kid', token: rawToken('{"alg":"HS256","typ":"JWT","ep":1,"sq":2}', goodBody), code: 'FERRY_MSG_MISSING_FIELD' },
  'epoch-negative': {
    description: 'ep below 0',
    token: rawToken('{"alg":"HS256","typ":"JWT","kid":"th-01","ep":-1,"sq":2}', goodBody),
    code: 'FERRY_MSG_FIELD_RANGE',
  },
  'seq-overflow': {
    description: 'sq above 2^32-1',
    token: rawToken('{"alg":"HS256","typ":"JWT","kid":"th-01","ep":1,"sq":4294967296}', goodBody),
    code: 'FERRY_MSG_FIELD_RANGE',
  },
  'seq-fraction': {
    description: 'sq not an integer',
    token: rawToken('{"alg":"HS256","typ":"JWT","kid":"th-01","ep":1,"sq":1.5}', goodBody),
    code: 'FERRY_MSG_FIELD_RANGE',
  },
  'seq-string': {
    description: 'sq as a string',
    token: rawToken('{"alg":"HS256","typ":"JWT","kid":"th-01","ep":1,"sq":"2"}', goodBody),
    code: 'FERRY_MSG_FIELD_RANGE',
  },
  'kid-syntax': {
    description: 'kid with a space',
    token: rawToken('{"alg":"HS256","typ":"JWT","kid":"th 01","ep":1,"sq":2}', goodBody),
    code: 'FERRY_MSG_FIELD_RANGE',
  },
  'group-part-range': {
    description: 'part index not below parts',
    token: rawToken('{"alg":"HS256","typ":"JWT","kid":"th-01","ep":1,"sq":2,"grp":1,"part":3,"parts":3}', goodBody),
    code: 'FERRY_MSG_FIELD_RANGE',
  },
  'group-incomplete': {
    description: 'grp without part/parts',
    token: rawToken('{"alg":"HS256","typ":"JWT","kid":"th-01","ep":1,"sq":2,"grp":1}', goodBody),
    code: 'FERRY_MSG_FIELD_RANGE',
  },
  'signature-bad-char': {
    description: 'signature with a character outside base64url',
    token: `${gh}.${gb}.${gs.slice(0, -1)}*`,
    code: 'FERRY_MSG_SIGNATURE_ENCODING',
  },
  'signature-short': { description: '31-byte signature', token: `${gh}.${gb}.${b64(new Uint8Array(31))}`, code: 'FERRY_MSG_SIGNATURE_LENGTH' },
  'signature-empty': { description: 'empty signature with alg HS256', token: `${gh}.${gb}.`, code: 'FERRY_MSG_SIGNATURE_LENGTH' },
  'wrong-key': {
    description: 'signed with another key',
    token: rawToken(goodHeader, goodBody, hmacKey(Buffer.from(OTHER_KEY_HEX, 'hex'))),
    code: 'FERRY_MSG_BAD_SIGNATURE',
  },
  'body-flipped': { description: 'one body character changed after signing', token: `${gh}.${flip(gb, 5)}.${gs}`, code: 'FERRY_MSG_BAD_SIGNATURE' },
  'header-flipped': {
    description: 'sq changed after signing (still a valid header)',
    token: `${text(headerJson({ kid: 'th-01', ep: 1, sq: 3 }))}.${gb}.${gs}`,
    code: 'FERRY_MSG_BAD_SIGNATURE',
  },
  'body-not-json': { description: 'correctly signed body that is not JSON', token: rawToken(goodHeader, 'temperature=20'), code: 'FERRY_MSG_BODY_JSON' },
  'body-bad-base64': {
    description: 'correctly signed body segment that is not base64url',
    token: (() => {
      const input = `${gh}.ab=c`;
      return `${input}.${b64(key.mac(new TextEncoder().encode(input)))}`;
    })(),
    code: 'FERRY_MSG_BODY_ENCODING',
  },
  'iss-mismatch': { description: 'iss is not the kid', token: rawToken(goodHeader, JSON.stringify({ iss: 'th-02', iat: 1 })), code: 'FERRY_MSG_CLAIMS' },
  'iat-string': { description: 'iat not a number', token: rawToken(goodHeader, JSON.stringify({ iss: 'th-01', iat: '2026-01-01' })), code: 'FERRY_MSG_CLAIMS' },
  'unknown-kid': {
    description: 'a source with no key',
    token: rawToken('{"alg":"HS256","typ":"JWT","kid":"stranger","ep":1,"sq":2}', JSON.stringify({ iss: 'stranger', iat: 1 })),
    code: 'FERRY_MSG_UNKNOWN_KEY',
  },
};

rmSync(dir, { recursive: true, force: true });
for (const [name, f] of Object.entries(valid)) {
  const t = encode(f.message, key);
  if (!t.ok) throw t.error;
  const path = join(dir, 'valid', `${name}.json`);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify({ description: f.description, keys, header: f.message.header, claims: f.message.claims, token: t.value }, null, 2)}\n`);
}
for (const [name, f] of Object.entries(errors)) {
  const path = join(dir, 'error', `${name}.json`);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify({ description: f.description, keys, token: f.token, code: f.code }, null, 2)}\n`);
}
console.log(`wrote ${Object.keys(valid).length} valid and ${Object.keys(errors).length} error fixtures to ${dir}`);
