// AssemblyScript's abort() routed to the ABI's sys.abort (asconfig.json: "use": ["abort=..."]).
// The message arrives as a UTF-16 string; it is narrowed to ASCII into a static buffer without
// allocating, because abort may be called precisely when allocation failed.
import { sys_abort } from "./imports";

const MSG = memory.data(128);
const FILE = memory.data(96);

function narrow(s: string | null, dst: usize, cap: i32): i32 {
  if (s == null) return 0;
  const str = changetype<string>(s);
  const n = min<i32>(str.length, cap);
  for (let i = 0; i < n; i++) {
    const c = str.charCodeAt(i);
    store<u8>(dst + <usize>i, c < 0x20 || c > 0x7e ? 0x3f : <u8>c);
  }
  return n;
}

export function ferryAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  const m = narrow(message, MSG, 128);
  const f = narrow(fileName, FILE, 96);
  sys_abort(MSG, m, FILE, f, <i32>line, <i32>column);
  unreachable();
}
