/**
 * @module The source kinds the daemon knows, in one table: kind -> the factory that builds its sources from
 * gateway.yaml. `serial:` entries are looked up by their `kind` (pms5003, mhz19, board), the `ble:`
 * section by `ble`. A kind missing from the table is a configuration error, never a silently idle input.
 */
import { join } from 'node:path';
import { bleSources } from '../ble/config.ts';
import { ReplayStore } from '../ble/replay-store.ts';
import { ReplayGuard } from '../bthome/replay-guard.ts';
import { BoardSource } from '../serial/board-source.ts';
import { serialSensorSources } from '../serial/config.ts';
import type { Source } from '../sources/types.ts';
import { ConfigError, type GatewayConfig } from './config.ts';

type SerialEntry = GatewayConfig['serial'][number];

type BleEntry = { readonly kind: 'ble'; readonly section: NonNullable<GatewayConfig['ble']> };

/** One configured source: a `serial:` entry (its kind names it) or the `ble:` section. */
export type SourceEntry = SerialEntry | BleEntry;
export type SourceKind = SourceEntry['kind'];
type EntryOf<K extends SourceKind> = K extends 'ble' ? BleEntry : SerialEntry & { readonly kind: K };

/** Builds the sources of one configured entry (zero when, say, `ble.enabled` is false). */
export type SourceFactory<K extends SourceKind = SourceKind> = (entry: EntryOf<K>, cfg: GatewayConfig) => Promise<Source[]>;

const sensor = async (e: SerialEntry): Promise<Source[]> => serialSensorSources({ serial: [e] });

/**
 * BLE replay counters are written through to `ble-replay.db` in the data dir as they advance and read back
 * here, so neither a restart nor a crash reopens the replay window (docs/ble.md).
 */
const ble: SourceFactory<'ble'> = async (entry, cfg) => {
  const store = new ReplayStore({
    path: join(cfg.gateway.data_dir, 'ble-replay.db'),
    legacyJson: join(cfg.gateway.data_dir, 'ble-replay.json'),
    onError: (e) => console.warn(`[warn] FERRY_GW_BLE_REPLAY_SAVE: ${e.message}`),
  });
  const replay = new ReplayGuard(store.entries(), { onAdvance: (mac, counter) => store.save(mac, counter) });
  return bleSources({ ble: entry.section }, { replay });
};

export const SOURCE_FACTORIES: { readonly [K in SourceKind]: SourceFactory<K> } = {
  pms5003: sensor,
  mhz19: sensor,
  board: async (e) => [new BoardSource({ path: e.path, ...(e.baud !== undefined && { baudRate: e.baud }), ...(e.id !== undefined && { boardId: e.id }) })],
  ble,
};

export const SOURCE_KINDS = Object.keys(SOURCE_FACTORIES) as SourceKind[];

const isSourceKind = (kind: string): kind is SourceKind => Object.hasOwn(SOURCE_FACTORIES, kind);

/** The configured sources, in file order: the `serial:` entries, then the `ble:` section if present. */
export function sourceEntries(cfg: GatewayConfig): SourceEntry[] {
  return [...cfg.serial, ...(cfg.ble === undefined ? [] : [{ kind: 'ble' as const, section: cfg.ble }])];
}

/** The factory for `kind`; FERRY_GW_CONFIG (a ConfigError naming `where`) if no source has that kind. */
export function sourceFactory(kind: string, where = 'kind'): SourceFactory {
  if (!isSourceKind(kind))
    throw new ConfigError([`${where}: no source of kind ${JSON.stringify(kind)}; known kinds: ${SOURCE_KINDS.join(', ')}`], 'configuration');
  return SOURCE_FACTORIES[kind] as SourceFactory;
}

/** Every source gateway.yaml configures, built through the table. */
export async function buildSources(cfg: GatewayConfig): Promise<Source[]> {
  const all: Source[] = [];
  for (const [i, entry] of sourceEntries(cfg).entries()) {
    const where = entry.kind === 'ble' ? 'ble' : `serial.${i}.kind`;
    all.push(...(await sourceFactory(entry.kind, where)(entry, cfg)));
  }
  return all;
}
