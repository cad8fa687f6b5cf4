/** @module Test support: WAT text to wasm bytes with wabt, for hand-made good and bad modules. */
import wabtInit from 'wabt';

const wabt = await wabtInit();
export function wat(text: string): Uint8Array {
  const m = wabt.parseWat('test.wat', text, { mutable_globals: true, sign_extension: true, bulk_memory: true, sat_float_to_int: true, multi_value: true });
  try {
    return new Uint8Array(m.toBinary({}).buffer);
  } finally {
    m.destroy();
  }
}
