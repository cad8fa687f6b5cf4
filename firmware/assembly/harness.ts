// Test harness module (not flashed): exposes the envelope builder so tests can replay every fixture's
// claims through the SAME AssemblyScript code the firmware uses and compare the bytes with the
// TypeScript encoder. The host writes keys, values and the kid into the `in` buffer.
import { ABI_VERSION } from "./abi/imports";
import "./abi/abort"; // compiled in so asconfig can route abort() to it
import * as env from "./envelope";

const IN = memory.data(2048);

export function abi_version(): i32 { return ABI_VERSION; }
export function in_ptr(): usize { return IN; }
export function out_ptr(): usize { return env.outPtr(); }
export function h_begin(): void { env.begin(); }
function k(klen: i32): void { if (klen >= 0) env.keyUtf8(IN, klen); else env.element(); }
export function h_open_obj(klen: i32): void { k(klen); env.open(0x7b); }
export function h_close_obj(): void { env.close(0x7d); }
export function h_open_arr(klen: i32): void { k(klen); env.open(0x5b); }
export function h_close_arr(): void { env.close(0x5d); }
export function h_str(klen: i32, vlen: i32): void { k(klen); env.body.strUtf8(IN + <usize>max(klen, 0), vlen); }
export function h_int(klen: i32, v: i64): void { k(klen); env.body.int(v); }
export function h_fixed(klen: i32, mant: i64, scale: i32): void { k(klen); env.body.fixed(mant, scale); }
export function h_bool(klen: i32, v: i32): void { k(klen); env.body.ascii(v != 0 ? "true" : "false"); }
export function h_null(klen: i32): void { k(klen); env.body.ascii("null"); }
export function h_finish(kidLen: i32, ep: u32, sq: u32, grp: i64, part: u32, parts: u32): i32 {
  return env.finish(IN, kidLen, ep, sq, grp, part, parts);
}
