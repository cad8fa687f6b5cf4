/** @module The BTHome object table: matches docs/decoders.md row for row and the spec entries the gateway relies on. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BTHOME_OBJECTS, bthomeDocRow, buttonEvent, dimmerEvent, rawRange } from './objects.ts';

const doc = readFileSync(new URL('../../../docs/decoders.md', import.meta.url), 'utf8');

describe('BTHome object table', () => {
  it('is the one in docs/decoders.md, row for row', () => {
    const rows = doc.split('\n').filter((l) => /^\| 0x[0-9A-F]{2} \|/.test(l));
    expect(rows).toEqual([...BTHOME_OBJECTS.values()].map(bthomeDocRow));
  });

  it('has the spec entries the brief names (sizes, signedness, factors, units)', () => {
    const pick = (id: number) => {
      const o = BTHOME_OBJECTS.get(id);
      return o && [o.name, o.format, o.size, o.factor, o.unit];
    };
    expect(pick(0x00)).toEqual(['packet_id', 'uint', 1, 1, null]);
    expect(pick(0x01)).toEqual(['battery', 'uint', 1, 1, '%']);
    expect(pick(0x02)).toEqual(['temperature', 'sint', 2, 0.01, '°C']);
    expect(pick(0x03)).toEqual(['humidity', 'uint', 2, 0.01, '%']);
    expect(pick(0x0c)).toEqual(['voltage', 'uint', 2, 0.001, 'V']);
    expect(pick(0x2e)).toEqual(['humidity', 'uint', 1, 1, '%']);
    expect(pick(0x3a)).toEqual(['button', 'button', 1, 1, null]);
    expect(pick(0x45)).toEqual(['temperature', 'sint', 2, 0.1, '°C']);
    expect(pick(0x53)).toEqual(['text', 'text', 0, 1, null]);
    expect(pick(0x54)).toEqual(['raw', 'raw', 0, 1, null]);
    expect(pick(0x3b)).toEqual(['command', 'command', 0, 1, null]);
    expect(pick(0x65)).toEqual(['settings_revision', 'uint', 1, 1, null]);
    expect(BTHOME_OBJECTS.size).toBe(95);
  });

  it('computes raw ranges and rounding decimals from the table', () => {
    const r = (id: number) => {
      const o = BTHOME_OBJECTS.get(id);
      return o && [rawRange(o), o.decimals];
    };
    expect(r(0x02)).toEqual([{ min: -32768, max: 32767 }, 2]);
    expect(r(0x04)).toEqual([{ min: 0, max: 0xffffff }, 2]);
    expect(r(0x58)).toEqual([{ min: -128, max: 127 }, 2]);
    expect(r(0x62)).toEqual([{ min: -(2 ** 31), max: 2 ** 31 - 1 }, 6]);
    expect(r(0x3c)).toEqual([{ min: 0, max: 255 }, 0]);
  });

  it('names button and dimmer events, null for unknown codes', () => {
    expect([0, 1, 4, 0x80, 0x07].map(buttonEvent)).toEqual(['none', 'press', 'long_press', 'hold_press', null]);
    expect([0, 1, 2, 3].map(dimmerEvent)).toEqual(['none', 'rotate_left', 'rotate_right', null]);
  });
});
