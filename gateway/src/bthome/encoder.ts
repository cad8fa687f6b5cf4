/**
 * @module BTHome v2 encoder (https://bthome.io/format/, https://bthome.io/encryption/) for tests and for our
 * own boards: objects -> service data, optionally encrypted, and service data -> advertising data.
 * Inverse of decodeBthome: every decoded BthomeObject is a valid input. Never throws.
 */
import { BTHOME_OBJECTS, COMMAND_ARGS_MASK, rawRange, type BthomeObjectSpec } from './objects.ts';
import { BTHOME_UUID_BYTES, bthomeNonce, ccmEncrypt, checkKey, parseMac } from './crypto.ts';
import { deviceInfoByte } from './decoder.ts';
import { fail, hexByte, ok, type DecodeResult } from '../decoders/errors.ts';

/**
 * What to encode. `raw` is the wire integer (for buttons the event code, for dimmers the event code plus
 * `steps`, for commands the opcode plus `args`); `value` is the physical value, divided by the table factor and rounded; `text`/`bytes` are the
 * length-prefixed kinds (0x53, 0x54).
 */
export type BthomeInput =
  | { readonly id: number; readonly raw: number; readonly steps?: number; readonly args?: Uint8Array }
  | { readonly id: number; readonly value: number | boolean }
  | { readonly id: number; readonly text: string }
  | { readonly id: number; readonly bytes: Uint8Array };

export interface BthomeEncryption {
  readonly key: Uint8Array;
  /** The advertiser's MAC, display order ("54:48:E6:8F:80:A5"); it is not sent, only used in the nonce. */
  readonly mac: string;
  /** uint32; must increase with every advert (bthome.io/encryption). */
  readonly counter: number;
}

export interface BthomeEncodeOptions {
  readonly triggerBased?: boolean;
  readonly encrypt?: BthomeEncryption;
}

const utf8 = new TextEncoder();

function checkInt(o: BthomeObjectSpec, what: string, n: number, min: number, max: number): DecodeResult<number> {
  if (!Number.isInteger(n) || n < min || n > max) {
    return fail('FERRY_DECODE_OUT_OF_RANGE', `${what} ${n} for object ${hexByte(o.id)} (${o.name}) is not an integer in ${min}..${max}`);
  }
  return ok(n);
}

function writeLE(out: number[], v: number, size: number): void {
  let u = v < 0 ? v + 2 ** (8 * size) : v; // two's complement for sint (bthome.io/format)
  for (let i = 0; i < size; i++) {
    out.push(u % 256);
    u = Math.floor(u / 256);
  }
}

function encodeObject(o: BthomeObjectSpec, input: BthomeInput, out: number[]): DecodeResult<null> {
  out.push(o.id);
  if (o.format === 'text' || o.format === 'raw') {
    let body: Uint8Array;
    if (o.format === 'text' && 'text' in input) body = utf8.encode(input.text);
    else if (o.format === 'raw' && 'bytes' in input) body = input.bytes;
    else return fail('FERRY_DECODE_OUT_OF_RANGE', `object ${hexByte(o.id)} (${o.name}) needs ${o.format === 'text' ? 'text' : 'bytes'}`);
    // One length byte (bthome.io/format, 0x53/0x54).
    if (body.length > 255) return fail('FERRY_DECODE_OUT_OF_RANGE', `object ${hexByte(o.id)} is ${body.length} bytes; at most 255 fit its length byte`);
    out.push(body.length, ...body);
    return ok(null);
  }
  const { min, max } = rawRange(o);
  let raw: number;
  if ('raw' in input) raw = input.raw;
  else if ('value' in input) raw = typeof input.value === 'boolean' ? Number(input.value) : Math.round(input.value / o.factor);
  else return fail('FERRY_DECODE_OUT_OF_RANGE', `object ${hexByte(o.id)} (${o.name}) needs raw or value`);
  const checked = checkInt(o, 'raw value', raw, min, max);
  if (!checked.ok) return checked;
  if (o.format === 'command') {
    const args = 'args' in input ? (input.args ?? new Uint8Array(0)) : new Uint8Array(0);
    if (args.length > COMMAND_ARGS_MASK)
      return fail('FERRY_DECODE_OUT_OF_RANGE', `command ${hexByte(o.id)} has ${args.length} argument bytes; at most ${COMMAND_ARGS_MASK} fit`);
    out.push(args.length, raw, ...args);
    return ok(null);
  }
  if (o.format === 'dimmer') {
    out.push(raw);
    const steps = checkInt(o, 'steps', 'steps' in input ? (input.steps ?? 0) : 0, 0, 255);
    if (!steps.ok) return steps;
    out.push(steps.value);
    return ok(null);
  }
  writeLE(out, raw, o.size);
  return ok(null);
}

/** Encodes the object list (sorted stably by id, as bthome.io/format requires) without the info byte. */
export function encodeBthomeObjects(objects: readonly BthomeInput[]): DecodeResult<Uint8Array> {
  const sorted = [...objects].sort((a, b) => a.id - b.id); // Array.prototype.sort is stable (ES2019)
  const out: number[] = [];
  for (const input of sorted) {
    const o = BTHOME_OBJECTS.get(input.id);
    if (o === undefined) return fail('FERRY_DECODE_UNKNOWN_OBJECT', `cannot encode unknown object id ${hexByte(input.id)}`);
    const done = encodeObject(o, input, out);
    if (!done.ok) return done;
  }
  return ok(Uint8Array.from(out));
}

/** Service data for UUID 0xFCD2 (without the UUID): info byte + objects, or info + ciphertext + counter + MIC. */
export function encodeBthome(objects: readonly BthomeInput[], opts: BthomeEncodeOptions = {}): DecodeResult<Uint8Array> {
  const body = encodeBthomeObjects(objects);
  if (!body.ok) return body;
  const info = deviceInfoByte(opts.encrypt !== undefined, opts.triggerBased ?? false);
  if (opts.encrypt === undefined) return ok(Uint8Array.from([info, ...body.value]));

  const { key, mac, counter } = opts.encrypt;
  const k = checkKey(key);
  if (!k.ok) return k;
  const m = parseMac(mac);
  if (!m.ok) return m;
  if (!Number.isInteger(counter) || counter < 0 || counter > 0xffff_ffff) {
    return fail('FERRY_DECODE_OUT_OF_RANGE', `encryption counter ${counter} is not a uint32`);
  }
  const counterBytes: number[] = [];
  writeLE(counterBytes, counter, 4); // sent as a uint32 little-endian (bthome.io/encryption)
  const sealed = ccmEncrypt(k.value, bthomeNonce(m.value, info, Uint8Array.from(counterBytes)), body.value);
  if (!sealed.ok) return sealed;
  return ok(Uint8Array.from([info, ...sealed.value.ciphertext, ...counterBytes, ...sealed.value.mic]));
}

/** Legacy advertising PDUs carry at most 31 bytes of advertising data (Bluetooth Core Vol 3 Part C §11). */
export const LEGACY_ADV_MAX = 31;

/**
 * Full advertising data as in the bthome.io/format example: Flags (02 01 06), optional Complete Local Name
 * (AD type 0x09), Service Data - 16-bit UUID (AD type 0x16) with D2 FC + service data.
 */
export function encodeBthomeAdvertisingData(
  serviceData: Uint8Array,
  opts: { readonly name?: string; readonly extended?: boolean } = {},
): DecodeResult<Uint8Array> {
  const out: number[] = [0x02, 0x01, 0x06];
  const name = opts.name === undefined ? null : utf8.encode(opts.name);
  // An AD structure's length byte counts its type byte and data (Core Vol 3 Part C §11), so data <= 254.
  if ((name?.length ?? 0) + 1 > 255 || serviceData.length + 3 > 255) {
    return fail('FERRY_DECODE_OUT_OF_RANGE', 'an AD structure longer than 255 bytes cannot be encoded');
  }
  if (name !== null) out.push(name.length + 1, 0x09, ...name);
  out.push(serviceData.length + 3, 0x16, ...BTHOME_UUID_BYTES, ...serviceData);
  if (opts.extended !== true && out.length > LEGACY_ADV_MAX) {
    return fail('FERRY_DECODE_OUT_OF_RANGE', `advertising data is ${out.length} bytes; a legacy advert holds at most ${LEGACY_ADV_MAX}`);
  }
  return ok(Uint8Array.from(out));
}
