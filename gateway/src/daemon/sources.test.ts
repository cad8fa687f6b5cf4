/** The daemon's source table: every kind gateway.yaml can name resolves to a factory; any other is FERRY_GW_CONFIG. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { BleSource } from '../ble/ble-source.ts';
import { BoardSource } from '../serial/board-source.ts';
import { SerialSensorSource } from '../serial/serial-sensor-source.ts';
import { ConfigError, SERIAL_SOURCE_KINDS, parseConfig, type GatewayConfig } from './config.ts';
import { SOURCE_FACTORIES, SOURCE_KINDS, buildSources, sourceEntries, sourceFactory } from './sources.ts';

const base = () => ({
  gateway: { id: 'gw-1', key: '00'.repeat(32), data_dir: mkdtempSync(join(tmpdir(), 'ferry-gw-src-')) },
  uplink: { url: 'mqtt://127.0.0.1:1883' },
});

describe('source table', () => {
  it('has one row per kind the configuration schema accepts, and no other', () => {
    expect([...SOURCE_KINDS].sort()).toEqual([...SERIAL_SOURCE_KINDS, 'ble'].sort());
    for (const k of SOURCE_KINDS) expect(typeof SOURCE_FACTORIES[k]).toBe('function');
  });

  it('resolves every kind configured: one source per serial entry, in file order, then BLE', async () => {
    const cfg = parseConfig({
      ...base(),
      serial: [
        { path: '/dev/ttyACM0', kind: 'board', baud: 115200 },
        { path: '/dev/serial0', kind: 'pms5003' },
        { path: '/dev/ttyUSB0', kind: 'mhz19', interval_ms: 10_000 },
      ],
      ble: { quiet_ms: 60_000 },
    });
    expect(sourceEntries(cfg).map((e) => e.kind)).toEqual(['board', 'pms5003', 'mhz19', 'ble']);
    const sources = await buildSources(cfg);
    expect(sources.map((s) => s.name)).toEqual(['board:/dev/ttyACM0', 'serial:/dev/serial0#pms5003', 'serial:/dev/ttyUSB0#mhz19', 'ble']);
    expect(sources.map((s) => s.constructor)).toEqual([BoardSource, SerialSensorSource, SerialSensorSource, BleSource]);
    expect(sources.map((s) => s.health().up)).toEqual([false, false, false, false]); // built, not started
  });

  it('resolves every source of the example gateway.yaml', async () => {
    const example = parseYaml(readFileSync(new URL('../../deploy/gateway.example.yaml', import.meta.url), 'utf8')) as Record<string, unknown>;
    const cfg = parseConfig({ ...example, gateway: base().gateway });
    expect((await buildSources(cfg)).map((s) => s.name)).toEqual(['serial:/dev/serial0#pms5003', 'serial:/dev/ttyUSB0#mhz19', 'board:/dev/ttyACM0', 'ble']);
  });

  it('builds nothing for an absent or disabled BLE section', async () => {
    expect(await buildSources(parseConfig(base()))).toEqual([]);
    expect(await buildSources(parseConfig({ ...base(), ble: { enabled: false } }))).toEqual([]);
  });

  it('refuses an unknown kind with a typed error naming where it is and the known kinds', async () => {
    const bad = (kind: string): void => void sourceFactory(kind);
    for (const kind of ['sds011', '', 'toString', '__proto__']) {
      expect(() => bad(kind)).toThrow(ConfigError);
      expect(() => bad(kind)).toThrow(/^FERRY_GW_CONFIG: .*\n {2}kind: no source of kind .*; known kinds: pms5003, mhz19, board, ble$/);
    }
    // A config that did not come through parseConfig (or a schema ahead of the table) can name one.
    const cfg = { ...parseConfig(base()), serial: [{ path: '/dev/ttyS1', kind: 'sds011' }] } as unknown as GatewayConfig;
    const e = await buildSources(cfg).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect(e).toMatchObject({ code: 'FERRY_GW_CONFIG', issues: ['serial.0.kind: no source of kind "sds011"; known kinds: pms5003, mhz19, board, ble'] });
  });
});
