/** @module gateway.yaml `serial:` entries -> SerialSensorSource options. */
import { describe, expect, it } from 'vitest';
import { serialSensorOptions, serialSensorSources } from './config.ts';
import { SerialSensorSource } from './serial-sensor-source.ts';

describe('serialSensorOptions', () => {
  it('maps path, kind, baud and interval_ms; a PMS5003 with interval_ms is polled', () => {
    expect(serialSensorOptions({ path: '/dev/serial0', kind: 'pms5003' })).toMatchObject({
      path: '/dev/serial0',
      kind: 'pms5003',
      mode: undefined,
      intervalMs: undefined,
    });
    expect(serialSensorOptions({ path: '/dev/serial0', kind: 'pms5003', interval_ms: 60_000 })).toMatchObject({ mode: 'passive', intervalMs: 60_000 });
    expect(serialSensorOptions({ path: '/dev/serial0', kind: 'pms5003', interval_ms: 60_000, mode: 'active' })).toMatchObject({ mode: 'active' });
    expect(serialSensorOptions({ path: '/dev/ttyUSB0', kind: 'mhz19', baud: 9600, interval_ms: 10_000, timeout_ms: 500 })).toMatchObject({
      kind: 'mhz19',
      baudRate: 9600,
      intervalMs: 10_000,
      responseTimeoutMs: 500,
    });
  });

  it('leaves `kind: board` to the board protocol and refuses unknown kinds and modes', () => {
    expect(serialSensorOptions({ path: '/dev/ttyACM0', kind: 'board' })).toBeUndefined();
    expect(() => serialSensorOptions({ path: '/dev/x', kind: 'sds011' })).toThrow(/^FERRY_GW_SERIAL_BAD_OPTIONS/);
    expect(() => serialSensorOptions({ path: '/dev/x', kind: 'pms5003', mode: 'sleepy' })).toThrow(/^FERRY_GW_SERIAL_BAD_OPTIONS/);
  });

  it('produces options the source accepts', () => {
    const o = serialSensorOptions({ path: '/dev/ttyUSB0', kind: 'mhz19', interval_ms: 5000 });
    expect(o && new SerialSensorSource(o).name).toBe('serial:/dev/ttyUSB0#mhz19');
  });

  it('builds one source per sensor entry of the example gateway.yaml, skipping the board', () => {
    const sources = serialSensorSources({
      serial: [
        { path: '/dev/serial0', kind: 'pms5003' },
        { path: '/dev/ttyUSB0', kind: 'mhz19', interval_ms: 10000 },
        { path: '/dev/ttyACM0', kind: 'board' },
      ],
    });
    expect(sources.map((s) => s.name)).toEqual(['serial:/dev/serial0#pms5003', 'serial:/dev/ttyUSB0#mhz19']);
    expect(serialSensorSources({})).toEqual([]);
  });
});
