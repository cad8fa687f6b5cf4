/**
 * @module The source kinds the daemon knows, in one table: kind -> the factory that builds its sources from
 * gateway.yaml. `serial:` entries are looked up by their `kind` (pms5003, mhz19, board), the `ble:`
 * section by `ble`. A kind missing from the table is a configuration error, never a silently idle input.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bleSources } from '../ble/config.ts';
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
 * BLE replay counters are saved in the data dir every minute and at exit, and read back here, so a
 * restart does not reopen the replay window (docs/ble.md).
 */
const ble: SourceFactory<'ble'> = async (entry, cfg) => {
  const file = join(cfg.gateway.data_dir, 'ble-replay.json');
  let replay: [string, number][] = [];
  try {
    replay = JSON.parse(readFileSync(file, 'utf8')) as [string, number][];
  } catch {
    // first start, or an unreadable file: start with an empty guard (documented in docs/ble.md)
  }
  const sources = bleSources({ ble: entry.section }, { replay });
  const save = (): void => {
    for (const s of sources) {
      writeFileSync(`${file}.tmp`, JSON.stringify(s.replayEntries()));
      renameSync(`${file}.tmp`, file); // atomic replace: a crash never leaves half a file
    }
  };
  if (sources.length > 0) {
    setInterval(save, 60_000).unref();
    process.once('exit', save);
  }
  return sources;
};

export const SOURCE_FACTORIES: { readonly [K in SourceKind]: SourceFactory<K> } = {
  pms5003: sensor,
  mhz19: sensor,
  board: async (e) => [new BoardSource({ path: e.path, ...(e.baud !== undefined && { baudRate: e.baud }) })],
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
  if (!isSourceKind(kind)) throw new ConfigError([`${where}: no source of kind ${JSON.stringify(kind)}; known kinds: ${SOURCE_KINDS.join(', ')}`], 'configuration');
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
