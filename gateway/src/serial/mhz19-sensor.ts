/**
 * @module Winsen MH-Z19/MH-Z19B as a serial sensor: 9600 8N1, request/response only (MH-Z19B manual,
 * "Commands": 0x86 read CO2). Answers become readings `co2` (ppm); byte 4 − 40 (°C) is not in the manual
 * and goes into meta as `temperature_unofficial_c`.
 */
import { DecodeError } from '../decoders/errors.ts';
import { MHZ19_CMD_ABC, MHZ19_CMD_RANGE, MHZ19_CMD_SPAN, MHZ19_CMD_ZERO, Mhz19Framer, mhz19ReadCommand } from '../decoders/mhz19.ts';
import type { SensorDecoder, SensorEvent, SensorProtocol } from './sensor.ts';

/** Commands whose answers are acknowledgements (manual, "Commands"): checksummed frames that carry no reading. */
const ACKNOWLEDGED = new Set([MHZ19_CMD_ZERO, MHZ19_CMD_SPAN, MHZ19_CMD_ABC, MHZ19_CMD_RANGE]);
/** The widest detection range the manual allows (0x99: 2000, 5000 or 10000 ppm). */
export const MHZ19_MAX_PPM = 10_000;

/**
 * An 8-bit checksum lets about one random 9-byte frame in 256 through, so a noisy line would produce fake
 * readings. Beyond the checksum a frame must be plausible: a known command byte, a value inside the widest
 * detection range, and, since the MH-Z19 only ever answers, a read request outstanding. Each check costs a
 * real frame nothing.
 */
class Mhz19Decoder implements SensorDecoder {
  readonly #framer = new Mhz19Framer();
  /** Read requests sent and not yet answered (at most 2: one may time out while the next goes out). */
  #asked = 0;

  expectAnswer(): void {
    this.#asked = Math.min(this.#asked + 1, 2);
  }

  push(chunk: Uint8Array): SensorEvent[] {
    return this.#framer.push(chunk).map((r): SensorEvent => {
      if (!r.ok) return { type: 'error', error: r.error };
      const m = r.value;
      if (m.type !== 'co2') {
        if (ACKNOWLEDGED.has(m.command)) return { type: 'other' };
        return {
          type: 'error',
          error: new DecodeError(
            'FERRY_DECODE_IMPLAUSIBLE',
            `MH-Z19 frame names command 0x${m.command.toString(16).padStart(2, '0')}, which the sensor never answers with`,
          ),
        };
      }
      if (this.#asked === 0) {
        return { type: 'error', error: new DecodeError('FERRY_DECODE_UNASKED', `MH-Z19 answered ${m.co2Ppm} ppm with no read request outstanding`) };
      }
      this.#asked--;
      if (m.co2Ppm > MHZ19_MAX_PPM) {
        return {
          type: 'error',
          error: new DecodeError('FERRY_DECODE_IMPLAUSIBLE', `MH-Z19 answered ${m.co2Ppm} ppm, beyond its widest range of ${MHZ19_MAX_PPM}`),
        };
      }
      // While it pre-heats (manual: 3 minutes) the sensor answers 0 ppm, which outdoor air (about 420 ppm)
      // never is: a warm-up answer, not a reading.
      if (m.co2Ppm === 0) return { type: 'warmup' };
      // Byte 4 is 0 while the (unofficial) temperature is not ready: say nothing rather than -40 °C.
      const t = m.unofficial.temperatureC;
      return {
        type: 'measurement',
        values: { co2: m.co2Ppm }, // manual: HIGH * 256 + LOW, ppm
        meta: t === -40 ? {} : { temperature_unofficial_c: t },
      };
    });
  }

  reset(): void {
    this.#framer.reset();
    this.#asked = 0;
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
