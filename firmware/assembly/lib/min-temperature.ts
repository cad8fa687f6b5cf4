// The thermostat's namespace minimum as a function (after the FaaS paper's thermostat):
// room readers write `temp.<id>` = "<celsius> <unix ms>" (the firmware's format, thermostat.ts
// publishOwn) into a namespace; min_temperature reads every temp.* key through the device ABI and
// returns the minimum in hundredths. The filter is the thermostat's (thermostat.ts minReading): a
// reading counts only if its value parses, is within the sensor's rating, and (maxAgeMs >= 0) its stamp
// is neither older nor further in the future than maxAgeMs, so the minimum the cloud computes over a
// namespace is the one the board computes over the same entries.
// The module's entry is fn/min-temperature.ts (a one-line export list); the code lives here so that
// every entry re-exporting it (the board's build, the cloud's test fixture) compiles to the same bytes,
// hence the same SHA-256 the board calls the cloud by.
import {
  clock_now_ms, state_get, state_key_at, ABI_VERSION, LIMIT_STATE_KEY_MAX, LIMIT_STATE_VALUE_MAX,
} from "../abi/imports";
import { parseCenti, parseUint, NAN_CENTI } from "../lib/fixed";
// Brings ferryAbort into the program; asc routes abort() to it (`--use abort=...`, as asconfig.json does).
import "../abi/abort";

/** Returned when no reading qualifies (no valid temperature is this low). */
export const NONE: i32 = i32.MIN_VALUE;
// Same bounds as thermostat.ts: -40.00 °C (a disconnected NTC) .. 85.00 °C (common sensors' rating).
const SENSOR_MIN: i64 = -4000;
const SENSOR_MAX: i64 = 8500;
/** Bound on temp.* keys scanned per call (a namespace may hold more readers than a board's 64). */
const MAX_READERS: i32 = 256;

// Static buffers, no allocation (so no start function and no allocator in the module).
const PREFIX = memory.data(8);
const KEY = memory.data(LIMIT_STATE_KEY_MAX);
const VAL = memory.data(LIMIT_STATE_VALUE_MAX);
store<u8>(PREFIX, 0x74); store<u8>(PREFIX, 0x65, 1); store<u8>(PREFIX, 0x6d, 2);
store<u8>(PREFIX, 0x70, 3); store<u8>(PREFIX, 0x2e, 4); // "temp."

export function abi_version(): i32 {
  return ABI_VERSION;
}

/** Minimum reading in hundredths over temp.* whose stamp is at most maxAgeMs away from now (maxAgeMs < 0: any age). */
export function min_temperature(maxAgeMs: i64): i32 {
  const now = clock_now_ms();
  let m: i64 = i64.MAX_VALUE;
  for (let i = 0; i < MAX_READERS; i++) {
    const k = state_key_at(PREFIX, 5, i, KEY, LIMIT_STATE_KEY_MAX);
    if (k < 0) break;
    const n = state_get(KEY, k, VAL, LIMIT_STATE_VALUE_MAX);
    if (n < 0) continue;
    let sp = 0;
    while (sp < n && load<u8>(VAL + <usize>sp) != 0x20) sp++;
    const v = parseCenti(VAL, sp);
    if (v == NAN_CENTI || v < SENSOR_MIN || v > SENSOR_MAX) continue;
    if (maxAgeMs >= 0) {
      const at = sp < n ? parseUint(VAL + <usize>sp + 1, n - sp - 1) : -1;
      // stale (that reader has gone quiet), or stamped implausibly far in the future (its clock is wrong)
      if (at < 0 || now - at > maxAgeMs || at - now > maxAgeMs) continue;
    }
    if (v < m) m = v;
  }
  return m == i64.MAX_VALUE ? NONE : <i32>m;
}
