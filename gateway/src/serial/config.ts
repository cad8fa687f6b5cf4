/**
 * @module Maps one `serial:` entry of gateway.yaml (gateway/src/daemon/config.ts: path, kind, baud,
 * interval_ms) to SerialSensorSource options, and a whole config to its sources. `kind: board` is the framed board protocol (packages/serial),
 * not a sensor, so it maps to undefined. docs/serial-sensors.md describes the keys.
 */
import type { BackoffOptions, Clock } from '@ferry/base';
import { SerialSensorError } from './errors.ts';
import type { SerialBinding } from './port.ts';
import { isSerialSensorKind, type SensorMode } from './sensor.ts';
import { SerialSensorSource, type SerialSensorSourceOptions } from './serial-sensor-source.ts';

/** The keys this module reads; `mode` and `timeout_ms` are optional extensions of the daemon schema. */
export interface SerialConfigEntry {
  readonly path: string;
  readonly kind: string;
  readonly baud?: number | undefined;
  readonly interval_ms?: number | undefined;
  readonly mode?: string | undefined;
  readonly timeout_ms?: number | undefined;
}

export interface SerialRuntime {
  readonly clock?: Clock | undefined;
  readonly binding?: SerialBinding | undefined;
  readonly backoff?: BackoffOptions | undefined;
}

/**
 * Options for a sensor entry, undefined for `kind: board`. A PMS5003 with `interval_ms` and no `mode` is
 * polled (passive mode): asking for a reading only when one is wanted is what `interval_ms` means.
 */
export function serialSensorOptions(e: SerialConfigEntry, rt: SerialRuntime = {}): SerialSensorSourceOptions | undefined {
  if (e.kind === 'board') return undefined;
  if (!isSerialSensorKind(e.kind))
    throw new SerialSensorError('FERRY_GW_SERIAL_BAD_OPTIONS', `serial kind ${JSON.stringify(e.kind)} is not pms5003, mhz19 or board`);
  if (e.mode !== undefined && e.mode !== 'active' && e.mode !== 'passive') {
    throw new SerialSensorError('FERRY_GW_SERIAL_BAD_OPTIONS', `serial mode ${JSON.stringify(e.mode)} is not active or passive`);
  }
  const mode: SensorMode | undefined = e.mode ?? (e.kind === 'pms5003' && e.interval_ms !== undefined ? 'passive' : undefined);
  return {
    path: e.path,
    kind: e.kind,
    mode,
    baudRate: e.baud,
    intervalMs: e.interval_ms,
    responseTimeoutMs: e.timeout_ms,
    backoff: rt.backoff,
    binding: rt.binding,
    clock: rt.clock,
  };
}

/**
 * One SerialSensorSource per sensor entry of `cfg.serial` (board entries skipped), for the `pms5003` and
 * `mhz19` rows of the daemon's source table (gateway/src/daemon/sources.ts).
 */
export function serialSensorSources(cfg: { readonly serial?: readonly SerialConfigEntry[] | undefined }, rt: SerialRuntime = {}): SerialSensorSource[] {
  return (cfg.serial ?? []).flatMap((e) => {
    const o = serialSensorOptions(e, rt);
    return o === undefined ? [] : [new SerialSensorSource(o)];
  });
}
