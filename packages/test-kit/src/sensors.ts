/** @module Simulated serial sensors on a PtyDevice, answering the way the real part does. */
import { MHZ19_CMD_READ, MHZ19_FRAME_BYTES, MHZ19_SENSOR, MHZ19_START, mhz19Checksum } from '@ferry/gateway/decoders';
import type { PtyDevice } from './pty.ts';

/**
 * A simulated MH-Z19 on a PtyDevice: for each well-formed read command FF 01 86 00 00 00 00 00 79 it sends
 * the next answer (MH-Z19B manual, "0x86"); with no answers left it stays mute, like a sensor without power.
 */
export class FakeMhz19 {
  readonly #dev: PtyDevice;
  readonly #answers: Uint8Array[];
  #buf: number[] = [];
  requests = 0;

  constructor(dev: PtyDevice, answers: Uint8Array[]) {
    this.#dev = dev;
    this.#answers = [...answers];
    dev.onData((bytes) => this.#take(bytes));
  }

  #take(bytes: Uint8Array): void {
    this.#buf.push(...bytes);
    for (;;) {
      const i = this.#buf.findIndex((b, j) => b === MHZ19_START && this.#buf[j + 1] === MHZ19_SENSOR && this.#buf[j + 2] === MHZ19_CMD_READ);
      if (i < 0 || this.#buf.length - i < MHZ19_FRAME_BYTES) return;
      const cmd = Uint8Array.from(this.#buf.slice(i, i + MHZ19_FRAME_BYTES));
      this.#buf = this.#buf.slice(i + MHZ19_FRAME_BYTES);
      if (cmd[8] !== mhz19Checksum(cmd)) continue; // a real sensor ignores a command with a bad checksum
      this.requests++;
      const answer = this.#answers.shift();
      if (answer !== undefined) this.#dev.write(answer);
    }
  }
}
