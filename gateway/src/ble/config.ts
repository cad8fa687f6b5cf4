/**
 * @module Maps the `ble:` section of gateway.yaml (gateway/src/daemon/config.ts: enabled, bind_keys,
 * quiet_ms, allow_unordered) to BleSource options, and a whole config to its BLE source, for the `ble` row
 * of the daemon's source table (gateway/src/daemon/sources.ts). docs/ble.md describes the keys.
 */
import type { ReplayGuard } from '../bthome/replay-guard.ts';
import type { Clock } from '@ferry/base';
import { BleSource, type BleSourceOptions } from './ble-source.ts';
import type { HciOptions, NobleBindings } from './noble-port.ts';

/** The keys this module reads. */
export interface BleConfigSection {
  readonly enabled?: boolean | undefined;
  readonly bind_keys?: Readonly<Record<string, string>> | undefined;
  readonly quiet_ms?: number | undefined;
  readonly allow_unordered?: boolean | undefined;
}

/** What the daemon supplies besides the file: saved replay state, and ports for tests. */
export interface BleRuntime {
  readonly replay?: ReplayGuard | Iterable<readonly [string, number]> | undefined;
  readonly clock?: Clock | undefined;
  readonly bindings?: (() => NobleBindings) | undefined;
  readonly hci?: HciOptions | undefined;
}

/** Options for the section; undefined when it is absent or `enabled: false` (no adapter is touched then). */
export function bleSourceOptions(section: BleConfigSection | undefined, rt: BleRuntime = {}): BleSourceOptions | undefined {
  if (section === undefined || section.enabled === false) return undefined;
  const o: { -readonly [K in keyof BleSourceOptions]: BleSourceOptions[K] } = {};
  if (section.bind_keys !== undefined) o.bindKeys = section.bind_keys;
  if (section.quiet_ms !== undefined) o.quietMs = section.quiet_ms;
  if (section.allow_unordered !== undefined) o.allowUnordered = section.allow_unordered;
  if (rt.replay !== undefined) o.replay = rt.replay;
  if (rt.clock !== undefined) o.clock = rt.clock;
  if (rt.bindings !== undefined) o.bindings = rt.bindings;
  if (rt.hci !== undefined) o.hci = rt.hci;
  return o;
}

/** Zero or one BleSource for a config (throws FERRY_GW_BLE_BAD_OPTIONS for a bad key: configuration time). */
export function bleSources(cfg: { readonly ble?: BleConfigSection | undefined }, rt: BleRuntime = {}): BleSource[] {
  const o = bleSourceOptions(cfg.ble, rt);
  return o === undefined ? [] : [new BleSource(o)];
}
