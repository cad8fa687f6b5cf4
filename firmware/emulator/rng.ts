/**
 * @module xorshift32 (Marsaglia 2003): tiny, seedable and trivially the same in C, so the posix WAMR board
 * and this emulator draw identical noise from the same seed.
 */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9; // zero is xorshift's fixed point
  }
  nextU32(): number {
    let x = this.s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.s = x;
    return x;
  }
  /** Uniform in [-1, 1). */
  symmetric(): number {
    return this.nextU32() / 2 ** 31 - 1;
  }
}
