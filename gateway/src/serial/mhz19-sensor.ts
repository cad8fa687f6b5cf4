/**
 * @module Winsen MH-Z19/MH-Z19B as a serial sensor: 9600 8N1, request/response only (MH-Z19B manual,
 * "Commands": 0x86 read CO2). Answers become readings `co2` (ppm); byte 4 − 40 (°C) is not in the manual
 * and goes into meta as `temperature_unofficial_c`.
 */
import { Mhz19Framer, mhz19ReadCommand } from '../decoders/mhz19.ts';
import type { SensorDecoder, SensorEvent, SensorProtocol } from './sensor.ts';

class Mhz19Decoder implements SensorDecoder {
  readonly #framer = new Mhz19Framer();

  push(chunk: Uint8Array): SensorEvent[] {
    return this.#framer.push(chunk).map((r): SensorEvent => {
      if (!r.ok) return { type: 'error', error: r.error };
      if (r.value.type !== 'co2') return { type: 'other' }; // e.g. an acknowledgement of 0x79/0x99
      return {
        type: 'measurement',
        values: { co2: r.value.co2Ppm }, // manual: HIGH * 256 + LOW, ppm
        meta: { temperature_unofficial_c: r.value.unofficial.temperatureC },
      };
    });
  }

  reset(): void {
    this.#framer.reset();
  }

  get stats() {
    return this.#framer.stats;
  }
}

export const mhz19Sensor: SensorProtocol = {
  kind: 'mhz19',
  baudRate: 9600,
  modes: ['passive'], // the MH-Z19 never sends unasked
  createDecoder: () => new Mhz19Decoder(),
  openCommands: () => [],
  readCommand: mhz19ReadCommand, // FF 01 86 00 00 00 00 00 79
};
