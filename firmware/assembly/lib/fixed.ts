// Fixed-point decimal text <-> hundredths. State values and schedules are text ("20.5"), readings are
// integers in hundredths; no floating point anywhere in the firmware (ESP32-C3 and other RISC-V boards
// have no FPU, and integer math gives every host the same bits).

/** Sentinel for "not a number". */
export const NAN_CENTI: i64 = i64.MIN_VALUE;

/** Parses [-]digits[.d[d]] from [ptr, ptr+n) into hundredths; NAN_CENTI when malformed or more than 2 decimals. */
export function parseCenti(ptr: usize, n: i32): i64 {
  let i = 0;
  let neg = false;
  if (n > 0 && load<u8>(ptr) == 0x2d) { neg = true; i = 1; }
  let whole: i64 = 0;
  let digits = 0;
  while (i < n) {
    const c = <i32>load<u8>(ptr + <usize>i);
    if (c < 0x30 || c > 0x39) break;
    whole = whole * 10 + <i64>(c - 0x30);
    if (++digits > 12) return NAN_CENTI;
    i++;
  }
  if (digits == 0) return NAN_CENTI;
  let frac: i64 = 0;
  if (i < n && load<u8>(ptr + <usize>i) == 0x2e) {
    i++;
    let fd = 0;
    while (i < n) {
      const c = <i32>load<u8>(ptr + <usize>i);
      if (c < 0x30 || c > 0x39) break;
      if (++fd > 2) return NAN_CENTI;
      frac = frac * 10 + <i64>(c - 0x30);
      i++;
    }
    if (fd == 0) return NAN_CENTI;
    if (fd == 1) frac *= 10;
  }
  if (i != n) return NAN_CENTI;
  const v = whole * 100 + frac;
  return neg ? -v : v;
}

/** Parses an unsigned decimal integer; -1 when malformed. */
export function parseUint(ptr: usize, n: i32): i64 {
  if (n <= 0 || n > 15) return -1;
  let v: i64 = 0;
  for (let i = 0; i < n; i++) {
    const c = <i32>load<u8>(ptr + <usize>i);
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + <i64>(c - 0x30);
  }
  return v;
}
