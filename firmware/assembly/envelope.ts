// The message envelope builder: the AssemblyScript twin of packages/message's encoder. It writes the
// header and body JSON into static buffers, base64url-encodes them, asks the host for the HMAC
// (dev.sign: the key never enters wasm memory) and produces the compact JWS. Byte-identical to the
// TypeScript encoder for every fixture (firmware/test/envelope-fixtures.test.ts).
import { dev_sign, LIMIT_EMIT_MAX, STATUS_BAD_ARGUMENT } from "./abi/imports";
import { Writer, base64url } from "./lib/writer";

// Sizes: a token is at most LIMIT_EMIT_MAX (2048) bytes. The shortest header is 50 bytes (67 characters),
// the signature 43 characters and two dots, so no body over 1452 bytes can fit after base64url's 4/3
// expansion; the final length check below decides for longer headers.
const BODY_CAP: i32 = 1456;
const HEADER_CAP: i32 = 192;
const MAX_DEPTH: i32 = 16;

const bodyMem = memory.data(BODY_CAP);
const headerMem = memory.data(HEADER_CAP);
const outMem = memory.data(LIMIT_EMIT_MAX);
const macMem = memory.data(32);
const firstMem = memory.data(MAX_DEPTH);

export const body = new Writer(bodyMem, BODY_CAP);
const header = new Writer(headerMem, HEADER_CAP);
export const out = new Writer(outMem, LIMIT_EMIT_MAX);
let depth: i32 = 0;
let badNesting: bool = false;

/** Starts a body: `{`. */
export function begin(): void {
  body.reset();
  depth = 0;
  badNesting = false;
  store<u8>(firstMem, 1);
  body.byte(0x7b);
}

/** Writes the separator for the next member/element and, when kptr != 0, its key (UTF-8 bytes). */
function sep(): void {
  const f = firstMem + <usize>depth;
  if (load<u8>(f) == 0) body.byte(0x2c);
  store<u8>(f, 0);
}
export function keyUtf8(kptr: usize, klen: i32): void {
  sep();
  if (klen >= 0) { body.strUtf8(kptr, klen); body.byte(0x3a); }
}
export function key(k: string): void {
  sep();
  body.str(k);
  body.byte(0x3a);
}
/** Array element (no key). */
export function element(): void { sep(); }

export function open(ch: u32): void {
  body.byte(ch);
  if (depth + 1 >= MAX_DEPTH) { badNesting = true; return; }
  depth++;
  store<u8>(firstMem + <usize>depth, 1);
}
export function close(ch: u32): void {
  if (depth == 0) { badNesting = true; return; }
  depth--;
  body.byte(ch);
}

export function fieldStr(k: string, v: string): void { key(k); body.str(v); }
export function fieldInt(k: string, v: i64): void { key(k); body.int(v); }
export function fieldFixed(k: string, mant: i64, scale: i32): void { key(k); body.fixed(mant, scale); }
export function fieldBool(k: string, v: bool): void { key(k); body.ascii(v ? "true" : "false"); }

/**
 * Finishes the body, writes the canonical header (alg, typ, kid, ep, sq[, grp, part, parts]) and signs.
 * grp < 0 means no group. Returns the token length in `out`, or a negative ABI status.
 */
export function finish(kid: usize, kidLen: i32, ep: u32, sq: u32, grp: i64, part: u32, parts: u32): i32 {
  if (depth != 0 || badNesting) return STATUS_BAD_ARGUMENT;
  body.byte(0x7d);
  header.reset();
  header.ascii("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"");
  header.bytes(kid, kidLen);
  header.ascii("\",\"ep\":");
  header.uint(<u64>ep, 1);
  header.ascii(",\"sq\":");
  header.uint(<u64>sq, 1);
  if (grp >= 0) {
    header.ascii(",\"grp\":");
    header.uint(<u64>grp, 1);
    header.ascii(",\"part\":");
    header.uint(<u64>part, 1);
    header.ascii(",\"parts\":");
    header.uint(<u64>parts, 1);
  }
  header.byte(0x7d);
  if (body.overflow || header.overflow) return STATUS_BAD_ARGUMENT;
  out.reset();
  base64url(out, headerMem, header.len);
  out.byte(0x2e);
  base64url(out, bodyMem, body.len);
  const signingLen = out.len;
  // 1 dot + 43 characters of signature must still fit.
  if (out.overflow || signingLen + 44 > LIMIT_EMIT_MAX) return STATUS_BAD_ARGUMENT;
  const r = dev_sign(outMem, signingLen, macMem, 32);
  if (r != 32) return r < 0 ? r : STATUS_BAD_ARGUMENT;
  out.byte(0x2e);
  base64url(out, macMem, 32);
  return out.len;
}

export function outPtr(): usize { return outMem; }
