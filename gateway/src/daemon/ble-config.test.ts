/** @module gateway.yaml `ble:` -> BleSource, against the daemon's own schema and example file. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { BleSource } from '../ble/ble-source.ts';
import { bleSourceOptions, bleSources } from '../ble/config.ts';
import { SPEC_KEY, SPEC_MAC } from '../bthome/fixtures/vectors.ts';
import { parseConfig } from './config.ts';

const base = { gateway: { id: 'gw-1', key: '00'.repeat(32) }, uplink: { url: 'mqtt://127.0.0.1:1883' } };

describe('ble config', () => {
  it('maps the section keys to options and makes one source', () => {
    const cfg = parseConfig({ ...base, ble: { bind_keys: { [SPEC_MAC]: SPEC_KEY }, quiet_ms: 60_000, allow_unordered: true } });
    expect(bleSourceOptions(cfg.ble, { replay: [[SPEC_MAC, 7]] })).toEqual({
      bindKeys: { [SPEC_MAC]: SPEC_KEY },
      quietMs: 60_000,
      allowUnordered: true,
      replay: [[SPEC_MAC, 7]],
    });
    const [src, ...rest] = bleSources(cfg, { replay: [[SPEC_MAC, 7]] });
    expect(rest).toEqual([]);
    expect(src).toBeInstanceOf(BleSource);
    expect(src?.replayEntries()).toEqual([[SPEC_MAC, 7]]);
  });

  it('makes no source when the section is absent or disabled', () => {
    expect(bleSources(parseConfig(base))).toEqual([]);
    expect(bleSources(parseConfig({ ...base, ble: { enabled: false } }))).toEqual([]);
  });

  it('accepts the example gateway.yaml', () => {
    const example = parseYaml(readFileSync(new URL('../../deploy/gateway.example.yaml', import.meta.url), 'utf8')) as Record<string, unknown>;
    const cfg = parseConfig({ ...example, gateway: base.gateway });
    expect(bleSources(cfg)).toHaveLength(1);
  });
});
