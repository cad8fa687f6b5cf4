// A bounded byte writer over static memory, and the JSON pieces the envelope needs. No allocation:
// the firmware runs for months on one 64 KiB page, so nothing in the tick path may touch the heap.
// Strings are escaped exactly like JSON.stringify (ECMA-262 §25.5.2.3 QuoteJSONString) so the bytes
// match the TypeScript encoder.

export class Writer {
  constructor(public base: usize, public cap: i32) {}
  len: i32 = 0;
  overflow: bool = false;

  reset(): void { this.len = 0; this.overflow = false; }

  @inline byte(b: u32): void {
    if (this.len >= this.cap) { this.overflow = true; return; }
    store<u8>(this.base + <usize>this.len, <u8>b);
    this.len++;
  }

  ascii(s: string): void {
    for (let i = 0; i < s.length; i++) this.byte(s.charCodeAt(i));
  }

  bytes(ptr: usize, n: i32): void {
    for (let i = 0; i < n; i++) this.byte(load<u8>(ptr + <usize>i));
  }

  /** Decimal integer (JSON.stringify form for |v| < 2^53). */
  int(v: i64): void {
    let mag: u64 = v < 0 ? <u64>(-v) : <u64>v;
    if (v < 0) this.byte(0x2d);
    this.uint(mag, 1);
  }

  /** Unsigned decimal with at least `minDigits` digits (leading zeros). */
  uint(v: u64, minDigits: i32): void {
    let digits = 0;
    let t = v;
    do { digits++; t /= 10; } while (t != 0);
    if (digits < minDigits) digits = minDigits;
    let div: u64 = 1;
    for (let i = 1; i < digits; i++) div *= 10;
    for (let i = 0; i < digits; i++) {
      this.byte(0x30 + <u32>((v / div) % 10));
      div /= 10;
    }
  }

  /**
   * Fixed-point decimal mant / 10^scale, written as JSON.stringify writes the same double: no trailing
   * fractional zeros, no fraction when it is zero, "0" for zero. Valid for |mant| <= 2^53, scale <= 6.
   */
  fixed(mant: i64, scale: i32): void {
    if (scale <= 0) { this.int(mant); return; }
    let p: u64 = 1;
    for (let i = 0; i < scale; i++) p *= 10;
    const mag: u64 = mant < 0 ? <u64>(-mant) : <u64>mant;
    let frac = mag % p;
    const whole = mag / p;
    if (mant < 0 && mag != 0) this.byte(0x2d);
    this.uint(whole, 1);
    if (frac == 0) return;
    let digits = scale;
    while (frac % 10 == 0) { frac /= 10; digits--; }
    this.byte(0x2e);
    this.uint(frac, digits);
  }

  private escapeUnit(c: u32): bool {
    if (c == 0x22) { this.byte(0x5c); this.byte(0x22); return true; }
    if (c == 0x5c) { this.byte(0x5c); this.byte(0x5c); return true; }
    if (c >= 0x20) return false;
    this.byte(0x5c);
    if (c == 0x08) this.byte(0x62);
    else if (c == 0x0c) this.byte(0x66);
    else if (c == 0x0a) this.byte(0x6e);
    else if (c == 0x0d) this.byte(0x72);
    else if (c == 0x09) this.byte(0x74);
    else {
      this.ascii("u00");
      this.byte(hex(c >> 4));
      this.byte(hex(c & 15));
    }
    return true;
  }

  /** A JSON string from UTF-8 bytes (passed through except for escapes). */
  strUtf8(ptr: usize, n: i32): void {
    this.byte(0x22);
    for (let i = 0; i < n; i++) {
      const c = <u32>load<u8>(ptr + <usize>i);
      if (!this.escapeUnit(c)) this.byte(c);
    }
    this.byte(0x22);
  }

  /** A JSON string from an AssemblyScript (UTF-16) string, encoded as UTF-8. */
  str(s: string): void {
    this.byte(0x22);
    for (let i = 0; i < s.length; i++) {
      let c = <u32>s.charCodeAt(i);
      if (this.escapeUnit(c)) continue;
      if (c < 0x80) { this.byte(c); continue; }
      if (c < 0x800) { this.byte(0xc0 | (c >> 6)); this.byte(0x80 | (c & 63)); continue; }
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
        const d = <u32>s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d < 0xe000) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          this.byte(0xf0 | (c >> 18)); this.byte(0x80 | ((c >> 12) & 63));
          this.byte(0x80 | ((c >> 6) & 63)); this.byte(0x80 | (c & 63));
          continue;
        }
      }
      this.byte(0xe0 | (c >> 12)); this.byte(0x80 | ((c >> 6) & 63)); this.byte(0x80 | (c & 63));
    }
    this.byte(0x22);
  }
}

@inline function hex(n: u32): u32 { return n < 10 ? 0x30 + n : 0x57 + n; }

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** base64url without padding (RFC 4648 §5) of [src, src+n) appended to w. */
export function base64url(w: Writer, src: usize, n: i32): void {
  let i = 0;
  for (; i + 3 <= n; i += 3) {
    const v = (<u32>load<u8>(src + <usize>i) << 16) | (<u32>load<u8>(src + <usize>i + 1) << 8) | <u32>load<u8>(src + <usize>i + 2);
    w.byte(B64.charCodeAt(v >> 18)); w.byte(B64.charCodeAt((v >> 12) & 63));
    w.byte(B64.charCodeAt((v >> 6) & 63)); w.byte(B64.charCodeAt(v & 63));
  }
  const rest = n - i;
  if (rest == 1) {
    const v = <u32>load<u8>(src + <usize>i) << 16;
    w.byte(B64.charCodeAt(v >> 18)); w.byte(B64.charCodeAt((v >> 12) & 63));
  } else if (rest == 2) {
    const v = (<u32>load<u8>(src + <usize>i) << 16) | (<u32>load<u8>(src + <usize>i + 1) << 8);
    w.byte(B64.charCodeAt(v >> 18)); w.byte(B64.charCodeAt((v >> 12) & 63)); w.byte(B64.charCodeAt((v >> 6) & 63));
  }
}
