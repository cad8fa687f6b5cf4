// A JSON scanner over static memory, for the bodies of signed commands (docs/actions.md "On the board").
// No allocation and no copies: it walks [base, base + end) and reports byte offsets. It checks the
// structure (strings, nesting, separators), bounds the depth, and leaves scalars to the caller, which
// parses only what it accepts (numbers through lib/fixed.ts). Keys are compared raw: a key written with
// escapes matches nothing, which the caller treats as an unknown key.

const MAX_DEPTH: i32 = 16;
/** member() result for an empty object. */
export const END: i32 = -2;
/** member() result after the object's last member. */
export const LAST: i32 = -3;

let base: usize = 0;
let end: i32 = 0;

/** Key and value of the member member() read: [keyStart, keyStart + keyLen), [valStart, valEnd). */
export let keyStart: i32 = 0;
export let keyLen: i32 = 0;
export let valStart: i32 = 0;
export let valEnd: i32 = 0;

export function init(ptr: usize, n: i32): void {
  base = ptr;
  end = n;
}

export function at(i: i32): i32 {
  return i >= 0 && i < end ? <i32>load<u8>(base + <usize>i) : -1;
}

export function ptr(i: i32): usize {
  return base + <usize>i;
}

function ws(i: i32): i32 {
  let c = at(i);
  while (c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d) c = at(++i);
  return i;
}

/** Index after the string that starts at i (a quote), or -1. Control characters are refused as in JSON. */
function skipString(i: i32): i32 {
  i++;
  while (i < end) {
    const c = at(i);
    if (c == 0x22) return i + 1;
    if (c < 0x20) return -1;
    i += c == 0x5c ? 2 : 1;
  }
  return -1;
}

/** Index after the value that starts at (or after white space from) i, or -1. */
export function skipValue(i: i32, depth: i32): i32 {
  i = ws(i);
  const c = at(i);
  if (c == 0x22) return skipString(i);
  if (c == 0x7b || c == 0x5b) {
    if (depth >= MAX_DEPTH) return -1;
    const close = c + 2; // '{' -> '}', '[' -> ']'
    i = ws(i + 1);
    if (at(i) == close) return i + 1;
    while (true) {
      if (c == 0x7b) {
        i = ws(i);
        if (at(i) != 0x22) return -1;
        i = ws(skipString(i));
        if (i < 0 || at(i) != 0x3a) return -1;
        i++;
      }
      i = skipValue(i, depth + 1);
      if (i < 0) return -1;
      i = ws(i);
      if (at(i) == close) return i + 1;
      if (at(i) != 0x2c) return -1;
      i++;
    }
  }
  // A scalar: up to the next separator; the caller parses the ones it accepts.
  const s = i;
  while (i < end) {
    const d = at(i);
    if (d == 0x2c || d == 0x7d || d == 0x5d || d == 0x20 || d == 0x09 || d == 0x0a || d == 0x0d) break;
    i++;
  }
  return i > s ? i : -1;
}

/** The position of the first member of the object at i, or -1 when there is no object there. */
export function first(i: i32): i32 {
  i = ws(i);
  return at(i) == 0x7b ? i + 1 : -1;
}

/**
 * Reads the member at i (from first(), or a previous member()'s result) into keyStart/keyLen/valStart/valEnd.
 * Returns where the next member starts, LAST after the last one, END for an empty object, -1 when malformed.
 */
export function member(i: i32): i32 {
  i = ws(i);
  if (at(i) == 0x7d) return END;
  if (at(i) != 0x22) return -1;
  const k = skipString(i);
  if (k < 0) return -1;
  keyStart = i + 1;
  keyLen = k - i - 2;
  i = ws(k);
  if (at(i) != 0x3a) return -1;
  valStart = ws(i + 1);
  valEnd = skipValue(valStart, 1);
  if (valEnd < 0) return -1;
  i = ws(valEnd);
  if (at(i) == 0x2c) return i + 1;
  return at(i) == 0x7d && ws(i + 1) == end ? LAST : -1; // nothing may follow the object
}

/** Whether the current key is exactly s (ASCII). */
export function keyIs(s: string): bool {
  if (keyLen != s.length) return false;
  for (let i = 0; i < keyLen; i++) if (at(keyStart + i) != s.charCodeAt(i)) return false;
  return true;
}

/** Whether [s, e) is exactly the ASCII text t (a literal, or a string with its quotes). */
export function textIs(s: i32, e: i32, t: string): bool {
  if (e - s != t.length) return false;
  for (let i = 0; i < t.length; i++) if (at(s + i) != t.charCodeAt(i)) return false;
  return true;
}
