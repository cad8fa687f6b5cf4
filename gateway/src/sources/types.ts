/**
 * @module The contract between the gateway's sources (BLE, serial) and the daemon. A source turns bytes
 * from the outside into Readings (decoded sensor values, signed later by the gateway) or forwards
 * already-signed board messages unchanged (end-to-end signatures). Sources never throw into the daemon:
 * problems are reported through `sink.problem` and counted in `health()`. sources.case.ts states this
 * contract as test cases that every source runs over its own test double.
 */

export type ReadingValue = number | string | boolean;

/** A decoded reading from a sensor that does not sign its own messages. */
export interface Reading {
  /** Stable id of the sensor: BLE MAC ("A4:C1:38:00:11:22") or serial port name + sensor kind. */
  readonly device: string;
  /** Decoder that produced it: 'bthome' | 'pms5003' | 'mhz19' | ... */
  readonly kind: string;
  /** Gateway wall clock when it was received, Unix ms. */
  readonly atMs: number;
  /** Values by name, in their units (e.g. temperature °C, pm2_5_atm µg/m³, co2 ppm). */
  readonly values: Readonly<Record<string, ReadingValue>>;
  /** Extra facts: RSSI, BTHome packet id / counter, serial port path. */
  readonly meta?: Readonly<Record<string, ReadingValue>>;
}

export interface SourceProblem {
  /** Catalog code, e.g. FERRY_DECODE_BAD_CHECKSUM, FERRY_GW_SERIAL_PORT_GONE (docs/errors.md lists them all). */
  readonly code: string;
  readonly message: string;
  readonly device?: string;
}

export interface SourceSink {
  reading(r: Reading): void;
  /** A message signed by a board (compact JWS bytes), to forward unchanged. */
  signed(token: Uint8Array, from: string): void;
  problem(p: SourceProblem): void;
}

export interface SourceHealth {
  readonly name: string;
  readonly up: boolean;
  /** Unix ms of the last good input, or undefined if none yet. */
  readonly lastInputMs: number | undefined;
  readonly counters: Readonly<Record<string, number>>;
}

export interface Source {
  readonly name: string;
  start(sink: SourceSink): Promise<void>;
  stop(): Promise<void>;
  health(): SourceHealth;
}
