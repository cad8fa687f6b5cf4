/**
 * @module The serial sensor error catalog: names, 53xx numbers, and docs/serial-sensors.md naming only real
 * codes (the list is docs/errors.md, checked by packages/base/src/errors-docs.test.ts).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifyOpenError, SERIAL_SENSOR_ERRORS, SerialSensorError, serialProblem, type SerialSensorErrorCode } from './errors.ts';

const codes = Object.keys(SERIAL_SENSOR_ERRORS) as SerialSensorErrorCode[];
const doc = readFileSync(new URL('../../../docs/serial-sensors.md', import.meta.url), 'utf8');

describe('serial sensor error catalog', () => {
  it('uses FERRY_GW_SERIAL_* names and unique numbers in 5300-5399', () => {
    const nums = codes.map((c) => SERIAL_SENSOR_ERRORS[c].num);
    expect(codes.every((c) => /^FERRY_GW_SERIAL_[A-Z0-9_]+$/.test(c))).toBe(true);
    expect(nums.every((n) => n >= 5300 && n <= 5399)).toBe(true);
    expect(new Set(nums).size).toBe(nums.length);
  });

  it('is linked from docs/serial-sensors.md, which names no other code', () => {
    expect(doc).toContain('(errors.md#ferry_gw_serial_-5300-5399)');
    const documented = [...doc.matchAll(/`(FERRY_GW_SERIAL_[A-Z0-9_]+)`/g)].map((m) => m[1]);
    expect(documented.length).toBeGreaterThan(0);
    for (const c of documented) expect(codes, c).toContain(c);
  });

  it('builds typed errors and problems that carry the code', () => {
    const e = new SerialSensorError('FERRY_GW_SERIAL_BAD_OPTIONS', 'intervalMs must be positive');
    expect([e.code, e.num, e.status, e.name, e.message]).toEqual([
      'FERRY_GW_SERIAL_BAD_OPTIONS',
      5301,
      400,
      'SerialSensorError',
      'FERRY_GW_SERIAL_BAD_OPTIONS: intervalMs must be positive',
    ]);
    expect(serialProblem('FERRY_GW_SERIAL_PORT_GONE', 'x', '/dev/ttyUSB0#mhz19')).toEqual({
      code: 'FERRY_GW_SERIAL_PORT_GONE',
      message: 'FERRY_GW_SERIAL_PORT_GONE: x',
      device: '/dev/ttyUSB0#mhz19',
    });
  });

  it("sorts open failures by the native binding's messages", () => {
    expect(classifyOpenError(new Error('Error: No such file or directory, cannot open /dev/ttyUSB0'))).toBe('FERRY_GW_SERIAL_PORT_MISSING');
    expect(classifyOpenError(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe('FERRY_GW_SERIAL_PORT_MISSING');
    expect(classifyOpenError(new Error('Error: Permission denied, cannot open /dev/ttyAMA0'))).toBe('FERRY_GW_SERIAL_PERMISSION');
    expect(classifyOpenError(new Error('Error Resource temporarily unavailable Cannot lock port'))).toBe('FERRY_GW_SERIAL_PORT_BUSY');
    expect(classifyOpenError(new Error('Error: Invalid argument, cannot open /dev/null'))).toBe('FERRY_GW_SERIAL_OPEN_FAILED');
    expect(classifyOpenError('weird')).toBe('FERRY_GW_SERIAL_OPEN_FAILED');
  });
});
