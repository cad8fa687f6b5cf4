/**
 * @module The last reading of each sensor the gateway heard, for the dashboard's sources page
 * (docs/gateway.md, "Dashboard"). Bounded: past `max` devices the one heard least recently is forgotten.
 */
import type { Reading, ReadingValue } from '../sources/types.ts';

/** Devices whose last reading is kept at most (docs/limits.md). */
export const MAX_LAST_READINGS = 1000;

export interface LastReading {
  readonly device: string;
  readonly kind: string;
  readonly atMs: number;
  readonly values: Readonly<Record<string, ReadingValue>>;
}

export class LastReadings {
  readonly #byDevice = new Map<string, LastReading>();
  readonly #max: number;

  constructor(max = MAX_LAST_READINGS) {
    this.#max = max;
  }

  record(r: Reading): void {
    // Delete first so the Map's insertion order is the order devices were last heard in.
    this.#byDevice.delete(r.device);
    this.#byDevice.set(r.device, { device: r.device, kind: r.kind, atMs: r.atMs, values: r.values });
    if (this.#byDevice.size > this.#max) {
      const oldest = this.#byDevice.keys().next();
      if (oldest.done !== true) this.#byDevice.delete(oldest.value);
    }
  }

  /** The most recently heard first. */
  list(): LastReading[] {
    return [...this.#byDevice.values()].reverse();
  }
}
