/**
 * @module BTHome v2 decoder (https://bthome.io/format/): the service data of UUID 0xFCD2 — device information
 * byte, then objects by id — optionally AES-CCM encrypted (https://bthome.io/encryption/). Never throws.
 */
import {
  BTHOME_OBJECTS,
  COMMAND_ARGS_MASK,
  buttonEvent,
  commandEvent,
  dimmerEvent,
  type BthomeObjectSpec,
  type ButtonEvent,
  type CommandEvent,
  type DimmerEvent,
} from './objects.ts';
import { BTHOME_COUNTER_BYTES, BTHOME_MIC_BYTES, bthomeNonce, ccmDecrypt, checkKey, formatMac, parseMac } from './crypto.ts';
import { fail, hexByte, ok, type DecodeResult } from '../decoders/errors.ts';
import type { ReplayGuard } from './replay-guard.ts';

interface ObjectBase {
  readonly id: number;
  readonly name: string;
}
/**
 * One decoded object. Integer kinds keep the wire integer in `raw`, text keeps `text`, raw keeps `bytes`,
 * so every decoded object is also a valid input to encodeBthome (round trip).
 */
export type BthomeObject =
  | (ObjectBase & { readonly kind: 'number'; readonly raw: number; readonly value: number; readonly unit: string | null })
  | (ObjectBase & { readonly kind: 'binary'; readonly raw: number; readonly value: boolean })
  | (ObjectBase & { readonly kind: 'button'; readonly raw: number; readonly event: ButtonEvent | null })
  | (ObjectBase & { readonly kind: 'command'; readonly raw: number; readonly event: CommandEvent | null; readonly args: Uint8Array })
  | (ObjectBase & { readonly kind: 'dimmer'; readonly raw: number; readonly event: DimmerEvent | null; readonly steps: number })
  | (ObjectBase & { readonly kind: 'text'; readonly text: string })
  | (ObjectBase & { readonly kind: 'raw'; readonly bytes: Uint8Array })
  | (ObjectBase & { readonly kind: 'timestamp'; readonly raw: number; readonly value: string })
  | (ObjectBase & { readonly kind: 'firmware'; readonly raw: number; readonly value: string });

export interface BthomeAdvert {
  readonly version: 2;
  readonly encrypted: boolean;
  /** Device info bit 2: the device only sends on a trigger (e.g. a button), not at a regular interval. */
  readonly triggerBased: boolean;
  /** MAC carried in the payload (device info bit 1, see DEVICE_INFO_MAC_INCLUDED), else null. */
  readonly mac: string | null;
  /** Encryption counter (uint32 LE) of an encrypted advert, else null. */
  readonly counter: number | null;
  readonly objects: readonly BthomeObject[];
  /**
   * Where decoding stopped at an object id this decoder does not know (newer firmware may send ids added to
   * the format later). Its length is unknown, so the objects after it are lost; the ones before it are kept,
   * as the reference parser does. null when every object was decoded.
   */
  readonly unknownObject: { readonly id: number; readonly at: number } | null;
}

/** The objects of a payload, and the unknown id decoding stopped at, if any. */
export interface BthomeObjects {
  readonly objects: BthomeObject[];
  readonly unknownObject: { readonly id: number; readonly at: number } | null;
}

export interface BthomeDecodeOptions {
  /** 16-byte bind key; required for encrypted adverts, and refuses unencrypted ones when given. */
  readonly key?: Uint8Array | undefined;
  /** The advertiser's MAC (nonce input) when it is not in the payload. */
  readonly mac?: string | undefined;
  /** Consulted after the MIC verifies; refuses counters not greater than the last accepted. */
  readonly replay?: ReplayGuard | undefined;
  /**
   * Accept objects out of numerical order. Off by default: bthome.io/format requires low-to-high ids, but
   * some shipping firmware breaks it (bthome-ble test_bthome_double_voltage_different_object_id only warns).
   */
  readonly allowUnordered?: boolean | undefined;
}

// bthome.io/format "BTHome Device Information": bit 0 encryption flag, bit 2 trigger based, bits 5-7 version.
export const DEVICE_INFO_ENCRYPTED = 0x01;
/**
 * Bit 1 is "reserved" on bthome.io; the reference parser bthome-ble reads it as "MAC included" (6 bytes,
 * reversed, after the info byte; tests test_bthome_with_mac*). We accept it so those adverts decode.
 */
export const DEVICE_INFO_MAC_INCLUDED = 0x02;
export const DEVICE_INFO_TRIGGER_BASED = 0x04;
export const BTHOME_VERSION = 2;
export const deviceInfoByte = (encrypted: boolean, triggerBased: boolean): number =>
  (BTHOME_VERSION << 5) | (encrypted ? DEVICE_INFO_ENCRYPTED : 0) | (triggerBased ? DEVICE_INFO_TRIGGER_BASED : 0);

const utf8 = new TextDecoder('utf-8', { fatal: true });

function readUint(b: Uint8Array, at: number, size: number): number {
  let v = 0;
  for (let i = size - 1; i >= 0; i--) v = v * 256 + (b[at + i] ?? 0); // little-endian (bthome.io/format)
  return v;
}
const toSigned = (v: number, size: number): number => (v >= 2 ** (8 * size - 1) ? v - 2 ** (8 * size) : v);

/** raw * factor, rounded to the factor's decimals so 2506 * 0.01 is 25.06, not 25.060000000000002. */
export const scale = (o: BthomeObjectSpec, raw: number): number => Number((raw * o.factor).toFixed(o.decimals));

function decodeObject(o: BthomeObjectSpec, data: Uint8Array): DecodeResult<BthomeObject> {
  const { id, name } = o;
  switch (o.format) {
    case 'uint':
    case 'sint': {
      const u = readUint(data, 0, o.size);
      const raw = o.format === 'sint' ? toSigned(u, o.size) : u;
      return ok({ id, name, kind: 'number', raw, value: scale(o, raw), unit: o.unit });
    }
    case 'binary': {
      const raw = data[0] ?? 0;
      return ok({ id, name, kind: 'binary', raw, value: raw !== 0 });
    }
    case 'button': {
      const raw = data[0] ?? 0;
      return ok({ id, name, kind: 'button', raw, event: buttonEvent(raw) });
    }
    case 'command': {
      const raw = data[0] ?? 0;
      return ok({ id, name, kind: 'command', raw, event: commandEvent(raw), args: data.slice(1) });
    }
    case 'dimmer': {
      const raw = data[0] ?? 0;
      return ok({ id, name, kind: 'dimmer', raw, event: dimmerEvent(raw), steps: data[1] ?? 0 });
    }
    case 'text':
      try {
        return ok({ id, name, kind: 'text', text: utf8.decode(data) });
      } catch {
        return fail('FERRY_DECODE_BAD_TEXT', `text object ${hexByte(id)} is not valid UTF-8`);
      }
    case 'raw':
      return ok({ id, name, kind: 'raw', bytes: data.slice() });
    case 'timestamp': {
      const raw = readUint(data, 0, 4);
      return ok({ id, name, kind: 'timestamp', raw, value: new Date(raw * 1000).toISOString() });
    }
    case 'firmware': {
      // bthome.io/format "Device information": bytes are LE, so the most significant part is last.
      const raw = readUint(data, 0, o.size);
      const parts = Array.from(data.subarray(0, o.size)).reverse();
      return ok({ id, name, kind: 'firmware', raw, value: parts.join('.') });
    }
  }
}

/** Parses the (decrypted) object list, stopping (not failing) at an unknown object id. */
export function parseBthomeObjects(payload: Uint8Array, allowUnordered = false): DecodeResult<BthomeObjects> {
  const objects: BthomeObject[] = [];
  let at = 0;
  let previousId = -1;
  while (at < payload.length) {
    const id = payload[at] ?? 0;
    const o = BTHOME_OBJECTS.get(id);
    // bthome.io/format: a receiver cannot know the length of an id it does not know, so it must stop there;
    // what came before is sound and is kept (bthome-ble parser.py stops the same way).
    if (o === undefined) return ok({ objects, unknownObject: { id, at } });
    // bthome.io/format: objects are sent in numerical order of their id, low to high (repeats allowed).
    if (!allowUnordered && id < previousId) {
      return fail('FERRY_DECODE_OBJECT_ORDER', `object id ${hexByte(id)} at byte ${at} follows ${hexByte(previousId)}; ids must not decrease`);
    }
    previousId = id;
    let start = at + 1;
    let size = o.size;
    if (size === 0) {
      // Text and raw: a one-byte length prefix (bthome.io/format, 0x53 and 0x54). Command: the prefix's low
      // five bits count the arguments after the opcode byte.
      if (start >= payload.length) return fail('FERRY_DECODE_TRUNCATED', `object ${hexByte(id)} at byte ${at} has no length byte`);
      size = o.format === 'command' ? 1 + ((payload[start] ?? 0) & COMMAND_ARGS_MASK) : (payload[start] ?? 0);
      start += 1;
    }
    if (start + size > payload.length) {
      return fail('FERRY_DECODE_TRUNCATED', `object ${hexByte(id)} (${o.name}) at byte ${at} needs ${size} bytes, ${payload.length - start} left`);
    }
    const decoded = decodeObject(o, payload.subarray(start, start + size));
    if (!decoded.ok) return decoded;
    objects.push(decoded.value);
    at = start + size;
  }
  return ok({ objects, unknownObject: null });
}

/**
 * Decodes BTHome v2 service data (the bytes after UUID 0xFCD2; a leading D2 FC is skipped, which is
 * unambiguous because 0xD2 as a device info byte would mean version 6).
 */
export function decodeBthome(serviceData: Uint8Array, opts: BthomeDecodeOptions = {}): DecodeResult<BthomeAdvert> {
  let data = serviceData;
  if (data.length >= 2 && data[0] === 0xd2 && data[1] === 0xfc) data = data.subarray(2);
  if (data.length === 0) return fail('FERRY_DECODE_TRUNCATED', 'service data is empty; the device information byte is missing');
  const info = data[0] ?? 0;
  const version = info >> 5;
  if (version !== BTHOME_VERSION) {
    return fail('FERRY_DECODE_BAD_VERSION', `device information byte ${hexByte(info)} names BTHome version ${version}; only version 2 is supported`);
  }
  const encrypted = (info & DEVICE_INFO_ENCRYPTED) !== 0;
  const triggerBased = (info & DEVICE_INFO_TRIGGER_BASED) !== 0;
  let at = 1;
  let payloadMac: Uint8Array | null = null;
  if ((info & DEVICE_INFO_MAC_INCLUDED) !== 0) {
    if (data.length < 7) return fail('FERRY_DECODE_TRUNCATED', `device info ${hexByte(info)} announces a 6-byte MAC but ${data.length - 1} bytes follow`);
    payloadMac = data.slice(1, 7).reverse(); // sent reversed (bthome-ble parser.py _get_mac)
    at = 7;
  }
  const mac = payloadMac === null ? null : formatMac(payloadMac);
  const advert = { version: BTHOME_VERSION, encrypted, triggerBased, mac } as const;

  if (!encrypted) {
    if (opts.key !== undefined) {
      return fail('FERRY_DECODE_NOT_ENCRYPTED', 'a bind key was given but the advert is not encrypted; refusing a possible downgrade');
    }
    const objects = parseBthomeObjects(data.subarray(at), opts.allowUnordered);
    return objects.ok ? ok({ ...advert, counter: null, ...objects.value }) : objects;
  }

  // bthome.io/encryption: ciphertext, then counter (4 bytes), then MIC (4 bytes).
  const tail = BTHOME_COUNTER_BYTES + BTHOME_MIC_BYTES;
  if (data.length - at < tail) {
    return fail('FERRY_DECODE_TRUNCATED', `encrypted advert has ${data.length - at} bytes after the header; counter and MIC need ${tail}`);
  }
  if (opts.key === undefined) return fail('FERRY_DECODE_KEY_REQUIRED', 'the advert is encrypted and no bind key was given');
  const key = checkKey(opts.key);
  if (!key.ok) return key;
  let nonceMac = payloadMac;
  if (nonceMac === null) {
    if (opts.mac === undefined) return fail('FERRY_DECODE_MAC_REQUIRED', 'the advert is encrypted and no MAC address was given for the nonce');
    const parsed = parseMac(opts.mac);
    if (!parsed.ok) return parsed;
    nonceMac = parsed.value;
  }
  const end = data.length;
  const counterBytes = data.subarray(end - tail, end - BTHOME_MIC_BYTES);
  const plain = ccmDecrypt(key.value, bthomeNonce(nonceMac, info, counterBytes), data.subarray(at, end - tail), data.subarray(end - BTHOME_MIC_BYTES));
  if (plain === null) {
    return fail('FERRY_DECODE_BAD_MIC', `AES-CCM MIC check failed for ${formatMac(nonceMac)}: wrong bind key, wrong MAC or altered advert`);
  }
  const counter = readUint(counterBytes, 0, BTHOME_COUNTER_BYTES);
  // Replay check only now that the MIC has verified (a forged counter must not move the guard).
  if (opts.replay !== undefined) {
    const admitted = opts.replay.accept(formatMac(nonceMac), counter);
    if (!admitted.ok) return admitted;
  }
  const objects = parseBthomeObjects(plain, opts.allowUnordered);
  return objects.ok ? ok({ ...advert, counter, ...objects.value }) : objects;
}
