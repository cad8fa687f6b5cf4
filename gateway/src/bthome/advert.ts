/**
 * @module BTHome over BLE: from one advertisement to BTHome service data and from a decoded BTHome advert to
 * a Reading, plus the duplicate filter. Pure (no noble, no timers): the BLE source calls these per advert.
 */
import type { BthomeAdvert, BthomeObject } from './decoder.ts';
import { toHex } from '../decoders/hex.ts';
import type { Reading, ReadingValue } from '../sources/types.ts';

/** The part of an advertisement read here: its Service Data AD structures (noble's `advertisement`). */
export interface ServiceDataCarrier {
  readonly serviceData?: readonly { readonly uuid: string; readonly data: Uint8Array }[] | undefined;
}

/**
 * BTHome's 16-bit service UUID 0xFCD2 (bthome.io/format), in AD type 0x16 "Service Data - 16-bit UUID"
 * (Core Spec Supplement Part A §1.11). noble's gap parser (lib/hci-socket/gap.js parseServices) gives the
 * UUID as lower-case hex in display order; other bindings may give the 128-bit Bluetooth Base UUID form.
 */
export const BTHOME_UUID = 'fcd2';
const BTHOME_UUID_128 = '0000fcd200001000800000805f9b34fb';

/** The BTHome service data (bytes after the UUID) of an advertisement, or null if it has none. */
export function bthomeServiceData(adv: ServiceDataCarrier): Uint8Array | null {
  for (const sd of adv.serviceData ?? []) {
    const uuid = sd.uuid.toLowerCase().replace(/-/g, '');
    // Copy: noble merges later adverts into the same advertisement object (lib/noble.js _onDiscover).
    if (uuid === BTHOME_UUID || uuid === BTHOME_UUID_128) return Uint8Array.from(sd.data);
  }
  return null;
}

/** "a4:c1:38:8d:18:b2" -> "A4:C1:38:8D:18:B2" (Reading.device form); null if not six hex bytes. */
export function normalizeMac(mac: string): string | null {
  const digits = mac.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
  if (digits.length !== 12 || !/^[0-9A-Fa-f:-]+$/.test(mac)) return null;
  return (digits.match(/../g) ?? []).join(':');
}

function readingValueOf(o: BthomeObject): ReadingValue {
  switch (o.kind) {
    case 'number':
    case 'binary':
    case 'timestamp':
    case 'firmware':
      return o.value;
    case 'button':
    case 'command':
    case 'dimmer':
      return o.event ?? `unknown_${o.raw}`; // an unknown event code is kept, not dropped (docs/decoders.md)
    case 'text':
      return o.text;
    case 'raw':
      return toHex(o.bytes);
  }
}

/**
 * A Reading of kind 'bthome'. values: object name -> value (a repeated name gets _2, _3 ...: three
 * temperatures become temperature, temperature_2, temperature_3); the unit of each value is in meta as
 * `unit.<name>` because one name can have several units (mass kg/lb, distance mm/m, volume L/mL).
 * packet_id (0x00) goes to meta.packetId, the encryption counter to meta.counter.
 */
export function toReading(device: string, advert: BthomeAdvert, atMs: number, rssi: number): Reading {
  const values: Record<string, ReadingValue> = {};
  const meta: Record<string, ReadingValue> = { rssi, encrypted: advert.encrypted };
  if (advert.counter !== null) meta['counter'] = advert.counter;
  if (advert.triggerBased) meta['triggerBased'] = true;
  if (advert.unknownObject !== null) meta['unknownObjectId'] = advert.unknownObject.id;
  for (const o of advert.objects) {
    if (o.id === 0x00 && o.kind === 'number') {
      meta['packetId'] = o.value;
      continue;
    }
    let key = o.name;
    for (let n = 2; key in values; n++) key = `${o.name}_${n}`;
    values[key] = readingValueOf(o);
    if (o.kind === 'number' && o.unit !== null) meta[`unit.${key}`] = o.unit;
    if (o.kind === 'dimmer') values[`${key}_steps`] = o.steps;
    if (o.kind === 'command' && o.args.length > 0) values[`${key}_args`] = toHex(o.args);
  }
  return { device, kind: 'bthome', atMs, values, meta };
}

/** The packet id (object 0x00) of a decoded advert, if it carries one. */
export const packetIdOf = (advert: BthomeAdvert): number | null => {
  const o = advert.objects.find((x) => x.id === 0x00);
  return o !== undefined && o.kind === 'number' ? o.raw : null;
};

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

interface Seen {
  bytes: Uint8Array;
  atMs: number;
  packetId: number | null;
}

/**
 * Drops repeats of one measurement. BTHome devices send each advert several times to improve the chance
 * that one arrives, and scanning with duplicates allowed delivers every copy. Rules, per MAC:
 *  1. packet id (object 0x00) equal to the last accepted one: a duplicate (bthome.io/format "Packet ID":
 *     receivers should only process an advert whose packet id differs from the previous one);
 *  2. byte-identical encrypted service data: a duplicate (same counter and MIC, so the same advert; the
 *     ReplayGuard would refuse it anyway, and a copy is not worth a FERRY_DECODE_REPLAYED problem);
 *  3. byte-identical plain service data within `windowMs` of its first sighting: a duplicate. This also
 *     absorbs noble re-reporting stale service data: gap.js and noble.js merge each advert into the
 *     previous advertisement object of that address, so an advert without service data repeats the old one.
 * A counter that went backwards or repeats with other bytes is still decoded and refused by the guard.
 */
export class Deduper {
  readonly #seen = new Map<string, Seen>();
  readonly #windowMs: number;
  readonly #maxDevices: number;

  constructor(windowMs: number, maxDevices = 4096) {
    this.#windowMs = windowMs;
    this.#maxDevices = maxDevices;
  }

  /** Rules 2 and 3, before decoding. Records the bytes when they are new. */
  isRepeat(mac: string, serviceData: Uint8Array, nowMs: number): boolean {
    const last = this.#seen.get(mac);
    if (last !== undefined && sameBytes(last.bytes, serviceData)) {
      const encrypted = ((serviceData[0] ?? 0) & 0x01) !== 0; // device info bit 0 (bthome.io/format)
      // The window counts from the first sighting, so a sensor whose value never changes still reports.
      if (encrypted || nowMs - last.atMs < this.#windowMs) return true;
    }
    this.#remember(mac, { bytes: serviceData, atMs: nowMs, packetId: last?.packetId ?? null });
    return false;
  }

  /** Rule 1, after decoding. Records the packet id when it is new. */
  isSamePacket(mac: string, packetId: number | null): boolean {
    if (packetId === null) return false;
    const last = this.#seen.get(mac);
    if (last === undefined) return false;
    if (last.packetId === packetId) return true;
    last.packetId = packetId;
    return false;
  }

  #remember(mac: string, s: Seen): void {
    this.#seen.delete(mac); // re-insert: Map order is then least recently changed first
    this.#seen.set(mac, s);
    if (this.#seen.size > this.#maxDevices) {
      const oldest = this.#seen.keys().next();
      if (oldest.done !== true) this.#seen.delete(oldest.value);
    }
  }
}
