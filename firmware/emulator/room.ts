/**
 * @module A lumped thermal model of one room and a furnace (Newton's law of cooling plus a constant heat
 * input), stepped once per simulated second. Integer-free on purpose only here: it models physics; the
 * firmware sees the result as an integer reading in hundredths of a degree.
 */
export interface RoomParams {
  /** Initial room temperature, °C. */
  readonly initialC: number;
  /** Outside temperature, °C. */
  readonly outsideC: number;
  /** Heat loss coefficient, 1/s: dT/dt = k (outside - T). 1/7200 cools a 15 °C gap at 7.5 °C/h. */
  readonly lossPerS: number;
  /** Furnace heat input, °C/s while on. */
  readonly heatCPerS: number;
  /** Sensor noise amplitude, °C (uniform ±). */
  readonly noiseC: number;
}

export const DEFAULT_ROOM: RoomParams = { initialC: 19, outsideC: 5, lossPerS: 1 / 7200, heatCPerS: 0.004, noiseC: 0.05 };

export class Room {
  temperatureC: number;
  furnaceOn = false;
  readonly params: RoomParams;
  constructor(params: RoomParams) {
    this.params = params;
    this.temperatureC = params.initialC;
  }
  /** Advances the model by whole seconds (explicit Euler at 1 s, far below the model's time constant). */
  step(seconds: number): void {
    const p = this.params;
    for (let i = 0; i < seconds; i++) {
      this.temperatureC += (p.outsideC - this.temperatureC) * p.lossPerS + (this.furnaceOn ? p.heatCPerS : 0);
    }
  }
}
