/**
 * @module Registers how each kind of source is built from gateway.yaml: BLE (noble), serial sensors
 * (PMS5003, MH-Z19) and Ferry boards on serial ports. BLE replay counters are persisted in the data dir
 * so a restart does not reopen the replay window.
 */
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { bleSources } from '../ble/config.ts';
import { BoardSource } from '../serial/board-source.ts';
import { serialSensorSources } from '../serial/config.ts';
import { registerSources } from './sources.ts';

registerSources(async (cfg) => serialSensorSources(cfg));
registerSources(async (cfg) => cfg.serial.filter((e) => e.kind === 'board').map((e) => new BoardSource({ path: e.path, ...(e.baud !== undefined && { baudRate: e.baud }) })));
registerSources(async (cfg) => {
  const file = join(cfg.gateway.data_dir, 'ble-replay.json');
  let replay: [string, number][] = [];
  try {
    replay = JSON.parse(readFileSync(file, 'utf8')) as [string, number][];
  } catch {
    // first start, or an unreadable file: start with an empty guard (documented in docs/ble.md)
  }
  const sources = bleSources(cfg, { replay });
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
});
