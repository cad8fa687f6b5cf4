// Typed helpers over the ABI's byte-oriented state functions, using static scratch buffers.
import { state_get, state_set, state_key_at, LIMIT_STATE_KEY_MAX, LIMIT_STATE_VALUE_MAX } from "../abi/imports";
import { Writer } from "./writer";
import { parseCenti, parseUint, NAN_CENTI } from "./fixed";

export const keyMem = memory.data(LIMIT_STATE_KEY_MAX);
export const valMem = memory.data(LIMIT_STATE_VALUE_MAX);
export const keyW = new Writer(keyMem, LIMIT_STATE_KEY_MAX);
export const valW = new Writer(valMem, LIMIT_STATE_VALUE_MAX);

/** Reads the key currently in keyW into valMem; returns the value length or a negative status. */
export function getCurrent(): i32 {
  if (keyW.overflow) return -3;
  return state_get(keyMem, keyW.len, valMem, LIMIT_STATE_VALUE_MAX);
}

export function get(k: string): i32 {
  keyW.reset();
  keyW.ascii(k);
  return getCurrent();
}

/** Writes valW's bytes under the key in keyW. */
export function setCurrent(): i32 {
  if (keyW.overflow || valW.overflow) return -3;
  return state_set(keyMem, keyW.len, valMem, valW.len);
}

/** Hundredths from a decimal text value, or `dflt` when missing or malformed. */
export function centi(k: string, dflt: i64): i64 {
  const n = get(k);
  if (n < 0) return dflt;
  const v = parseCenti(valMem, n);
  return v == NAN_CENTI ? dflt : v;
}

/** Unsigned integer value, or `dflt`. */
export function uint(k: string, dflt: i64): i64 {
  const n = get(k);
  if (n < 0) return dflt;
  const v = parseUint(valMem, n);
  return v < 0 ? dflt : v;
}

/** Key number `index` with the given prefix into keyMem (keyW.len set); returns its length or a status. */
export function keyAt(prefix: string, index: i32): i32 {
  keyW.reset();
  keyW.ascii(prefix);
  // The prefix is copied to valMem so that the key can be written over keyMem.
  memory.copy(valMem, keyMem, <usize>keyW.len);
  const n = state_key_at(valMem, keyW.len, index, keyMem, LIMIT_STATE_KEY_MAX);
  keyW.len = n > 0 ? n : 0;
  return n;
}
