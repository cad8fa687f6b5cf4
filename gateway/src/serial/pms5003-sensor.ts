/**
 * @module Plantower PMS5003 as a serial sensor: 9600 8N1; active mode streams a 32-byte frame about every
 * second (datasheet Appendix I), passive mode answers each read command 42 4D E2 with one frame
 * (Appendix II). Frames become readings with the six concentrations (µg/m³) and six particle counts.
 */
import { Pms5003Framer, pmsActiveModeCommand, pmsPassiveModeCommand, pmsReadCommand } from '../decoders/pms5003.ts';
import type { SensorDecoder, SensorEvent, SensorMode, SensorProtocol } from './sensor.ts';

const PMS_VALUES = [
  'pm1_0_atm',
  'pm2_5_atm',
  'pm10_atm',
  'pm1_0_cf1',
  'pm2_5_cf1',
  'pm10_cf1',
  'particles_0_3um',
  'particles_0_5um',
  'particles_1_0um',
  'particles_2_5um',
  'particles_5_0um',
  'particles_10um',
] as const;

class PmsDecoder implements SensorDecoder {
  readonly #framer = new Pms5003Framer();
  /** Valid frames left during which one BAD_LENGTH is taken for the acknowledgement; 0 = none expected. */
  #ackWindow = 0;

  /**
   * A mode command is acknowledged with an 8-byte frame 42 4D 00 04 E1 00 0X sum (not in the datasheet,
   * observed on shipping sensors); the 32-byte framer sees a length field of 4 and refuses it once with
   * FERRY_DECODE_BAD_LENGTH before resynchronising. That one refusal is expected, not a fault. Firmware
   * that sends no acknowledgement must not hide a later real fault, so the allowance ends after two valid
   * frames (one may already have been on the wire when the command went out).
   */
  expectAck(): void {
    this.#ackWindow = 2;
  }

  push(chunk: Uint8Array): SensorEvent[] {
    const events: SensorEvent[] = [];
    for (const r of this.#framer.push(chunk)) {
      if (r.ok) {
        if (this.#ackWindow > 0) this.#ackWindow--;
        const v = r.value;
        // For about 30 s after waking (datasheet: "stable data should be got at least 30 seconds after the
        // sensor wakeup") the sensor streams frames of zeros. Real air, however clean, never has zero
        // particles >= 0.3 µm per 0.1 L, so an all-zero frame is a warm-up frame, not a reading of 0 µg/m³.
        if (PMS_VALUES.every((k) => v[k] === 0)) {
          events.push({ type: 'warmup' });
          continue;
        }
        events.push({
          type: 'measurement',
          values: {
            pm1_0_atm: v.pm1_0_atm,
            pm2_5_atm: v.pm2_5_atm,
            pm10_atm: v.pm10_atm, // Appendix I data 4-6, µg/m³
            pm1_0_cf1: v.pm1_0_cf1,
            pm2_5_cf1: v.pm2_5_cf1,
            pm10_cf1: v.pm10_cf1, // data 1-3, µg/m³, CF=1
            particles_0_3um: v.particles_0_3um,
            particles_0_5um: v.particles_0_5um, // data 7-12, per 0.1 L
            particles_1_0um: v.particles_1_0um,
            particles_2_5um: v.particles_2_5um,
            particles_5_0um: v.particles_5_0um,
            particles_10um: v.particles_10um,
          },
          meta: { reserved: v.reserved },
        });
      } else if (r.error.code === 'FERRY_DECODE_BAD_LENGTH' && this.#ackWindow > 0) {
        this.#ackWindow = 0;
        events.push({ type: 'other' });
      } else {
        events.push({ type: 'error', error: r.error });
      }
    }
    return events;
  }

  reset(): void {
    this.#framer.reset();
    this.#ackWindow = 0;
  }

  get stats() {
    return this.#framer.stats;
  }
}

export const pms5003Sensor: SensorProtocol = {
  kind: 'pms5003',
  baudRate: 9600,
  modes: ['active', 'passive'],
  createDecoder: () => new PmsDecoder(),
  // Appendix II 0xE1: the mode survives a gateway restart (not a power cycle), so set it on every open.
  openCommands: (mode: SensorMode) => [mode === 'active' ? pmsActiveModeCommand() : pmsPassiveModeCommand()],
  readCommand: pmsReadCommand,
};

/** Lets the source tell the decoder that a mode command went out (see PmsDecoder.expectAck). */
export const expectsAck = (d: SensorDecoder): d is SensorDecoder & { expectAck(): void } => d instanceof PmsDecoder;
