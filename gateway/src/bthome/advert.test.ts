/** @module Advert -> service data -> Reading mapping and the duplicate rules, without noble. */
import { describe, expect, it } from 'vitest';
import { hex } from '@ferry/test-kit/ble';
import { decodeBthome, type BthomeAdvert } from './decoder.ts';
import { bthomeServiceData, Deduper, normalizeMac, packetIdOf, toReading } from './advert.ts';

function decoded(h: string): BthomeAdvert {
  const r = decodeBthome(hex(h));
  if (!r.ok) throw r.error;
  return r.value;
}

describe('bthomeServiceData', () => {
  it('finds UUID 0xFCD2 in noble 16-bit and 128-bit forms, copies the bytes, ignores others', () => {
    const data = Uint8Array.from([0x40, 0x02, 0xca, 0x09]);
    expect(
      bthomeServiceData({
        serviceData: [
          { uuid: '181a', data: Uint8Array.of(1) },
          { uuid: 'fcd2', data },
        ],
      }),
    ).toEqual(data);
    expect(bthomeServiceData({ serviceData: [{ uuid: 'FCD2', data }] })).not.toBe(data);
    expect(bthomeServiceData({ serviceData: [{ uuid: '0000fcd2-0000-1000-8000-00805f9b34fb', data }] })).toEqual(data);
    expect(bthomeServiceData({ serviceData: [{ uuid: 'fe95', data }] })).toBeNull();
    expect(bthomeServiceData({})).toBeNull();
  });
});

describe('normalizeMac', () => {
  it('gives upper-case colon form and refuses anything that is not six bytes', () => {
    expect(normalizeMac('a4:c1:38:8d:18:b2')).toBe('A4:C1:38:8D:18:B2');
    expect(normalizeMac('A4-C1-38-8D-18-B2')).toBe('A4:C1:38:8D:18:B2');
    expect(normalizeMac('a4c1388d18b2')).toBe('A4:C1:38:8D:18:B2');
    expect(normalizeMac('a4:c1:38:8d:18')).toBeNull();
    expect(normalizeMac('zz:c1:38:8d:18:b2:00')).toBeNull();
  });
});

describe('toReading', () => {
  it('names repeated objects name, name_2, name_3 and puts units in meta', () => {
    // bthome-ble test_bthome_double_temperature + a third one.
    const r = toReading('A4:C1:38:8D:18:B2', decoded('4002ca0902cf0902d409'), 5, -60);
    expect(r.values).toEqual({ temperature: 25.06, temperature_2: 25.11, temperature_3: 25.16 });
    expect(r.meta).toMatchObject({ 'unit.temperature': '°C', 'unit.temperature_2': '°C', 'unit.temperature_3': '°C', rssi: -60 });
  });

  it('keeps kg and lb apart through their units', () => {
    const r = toReading('d', decoded('40065e1f073e1d'), 0, 0);
    expect([r.values, r.meta?.['unit.mass'], r.meta?.['unit.mass_2']]).toEqual([{ mass: 80.3, mass_2: 74.86 }, 'kg', 'lb']);
  });

  it('maps packet id to meta, events to names (unknown codes kept), dimmer steps, raw to hex, trigger flag', () => {
    const r = toReading('d', decoded('440007 3afe 3c0103 540248 65'.replace(/ /g, '')), 0, -1);
    expect(r.values).toEqual({ button: 'unknown_254', dimmer: 'rotate_left', dimmer_steps: 3, raw: '4865' });
    expect(r.meta).toMatchObject({ packetId: 7, triggerBased: true, encrypted: false });
    expect(packetIdOf(decoded('400009'))).toBe(9);
    expect(packetIdOf(decoded('4002ca09'))).toBeNull();
  });
});

describe('Deduper', () => {
  it('applies the three rules per MAC', () => {
    const d = new Deduper(1_000);
    const plain = hex('4002ca09');
    const enc = hex('41a47266c95f730011223378237214');
    expect([d.isRepeat('A', plain, 0), d.isRepeat('A', plain, 999), d.isRepeat('A', plain, 1_000)]).toEqual([false, true, false]);
    expect(d.isRepeat('B', plain, 10)).toBe(false); // another device
    expect([d.isRepeat('A', enc, 0), d.isRepeat('A', enc, 1e9)]).toEqual([false, true]); // same counter and MIC: always a copy
    expect([d.isSamePacket('A', 5), d.isSamePacket('A', 5), d.isSamePacket('A', 6), d.isSamePacket('A', null)]).toEqual([false, true, false, false]);
  });

  it('forgets the least recently changed device beyond maxDevices', () => {
    const d = new Deduper(1_000, 2);
    const b = hex('4002ca09');
    d.isRepeat('A', b, 0);
    d.isRepeat('B', b, 0);
    d.isRepeat('C', b, 0);
    expect([d.isRepeat('B', b, 1), d.isRepeat('C', b, 1), d.isRepeat('A', b, 1)]).toEqual([true, true, false]);
  });
});
