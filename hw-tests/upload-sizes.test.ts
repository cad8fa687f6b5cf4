/**
 * Uploads whose length falls on every SHA-256 padding edge (FIPS 180-4 §5.1.1: the length mod 64 is 0,
 * 1, 55, 56 or 63) are accepted by their hash: the board's streaming SHA-256 (mbedTLS on the posix board
 * and the ESP32, the portable rv32/crypto_rv32.c on the rv32 board) agrees with Node's on each.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { THERMOSTAT } from './src/paths.ts';
import { cleanup, openTarget } from './src/target.ts';
import { withCustomSection } from './src/wasm.ts';

afterEach(cleanup);

const thermostat = readFileSync(THERMOSTAT);

/** The thermostat with a custom section padded so the module's length is `rem` mod 64. */
function ofLength(rem: number): Uint8Array {
  for (let pad = 0; pad < 256; pad++) {
    const m = withCustomSection(thermostat, 'ferry.pad', new Uint8Array(pad).fill(rem));
    if (m.length % 64 === rem) return m;
  }
  throw new Error(`no padding gives length ${rem} mod 64`);
}

describe('upload hashes on the SHA-256 padding edges', () => {
  it('modules of length 0, 1, 55, 56 and 63 mod 64 are each accepted and run', async () => {
    const { client } = await openTarget();
    for (const rem of [0, 1, 55, 56, 63]) {
      const mod = ofLength(rem);
      await client.upload(mod, { chunkSize: 1000 });
      const info = await client.hello();
      expect([rem, info.moduleSha256]).toEqual([rem, createHash('sha256').update(mod).digest('hex')]);
    }
  });
});
