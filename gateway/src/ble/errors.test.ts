/**
 * @module The BLE source error catalog: names, 52xx numbers, and docs/ble.md naming only real codes (the
 * list is docs/errors.md, checked by packages/base/src/errors-docs.test.ts).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BLE_ERRORS, BleSourceError, bleProblem, type BleErrorCode } from './errors.ts';

const codes = Object.keys(BLE_ERRORS) as BleErrorCode[];
const doc = readFileSync(new URL('../../../docs/ble.md', import.meta.url), 'utf8');

describe('BLE error catalog', () => {
  it('uses FERRY_GW_BLE_* names and unique numbers in 5200-5299', () => {
    const nums = codes.map((c) => BLE_ERRORS[c].num);
    expect(codes.every((c) => /^FERRY_GW_BLE_[A-Z0-9_]+$/.test(c))).toBe(true);
    expect(nums.every((n) => n >= 5200 && n <= 5299)).toBe(true);
    expect(new Set(nums).size).toBe(nums.length);
  });

  it('is linked from docs/ble.md, which names no other code', () => {
    expect(doc).toContain('(errors.md#ferry_gw_ble_-5200-5299)');
    const documented = [...doc.matchAll(/`(FERRY_GW_BLE_[A-Z0-9_]+)`/g)].map((m) => m[1]);
    expect(documented.length).toBeGreaterThan(0);
    for (const c of documented) expect(codes, c).toContain(c);
  });

  it('builds typed errors and problems carrying the code', () => {
    const e = new BleSourceError('FERRY_GW_BLE_BAD_OPTIONS', 'quietMs must be > 0');
    expect([e.code, e.num, e.status, e.name, e.message]).toEqual([
      'FERRY_GW_BLE_BAD_OPTIONS',
      5201,
      400,
      'BleSourceError',
      'FERRY_GW_BLE_BAD_OPTIONS: quietMs must be > 0',
    ]);
    expect(bleProblem('FERRY_GW_BLE_SCAN_STALLED', 'quiet', 'hci0')).toEqual({
      code: 'FERRY_GW_BLE_SCAN_STALLED',
      message: 'FERRY_GW_BLE_SCAN_STALLED: quiet',
      device: 'hci0',
    });
    expect(bleProblem('FERRY_GW_BLE_ADAPTER_OFF', 'off')).not.toHaveProperty('device');
  });
});
