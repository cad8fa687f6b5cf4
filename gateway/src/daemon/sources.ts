/** @module Builds the configured sources (BLE, serial sensors, boards) from gateway.yaml. */
import type { Source } from '../sources/types.ts';
import type { GatewayConfig } from './config.ts';

export type SourceFactory = (cfg: GatewayConfig) => Promise<Source[]>;

const factories: SourceFactory[] = [];

/** Each source module registers how it is built from the config. */
export function registerSources(f: SourceFactory): void {
  factories.push(f);
}

export async function buildSources(cfg: GatewayConfig): Promise<Source[]> {
  const all: Source[] = [];
  for (const f of factories) all.push(...(await f(cfg)));
  return all;
}
