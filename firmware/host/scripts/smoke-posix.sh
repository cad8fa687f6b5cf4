#!/usr/bin/env bash
# Smoke test of .build/host/ferry-board (build it first with build-posix.sh): assembles tiny modules
# with the wabt npm package (node_modules) into a temporary folder and checks results, exit codes and
# error texts. Prints "N passed, N failed"; exits non-zero on any failure.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
bin=${FERRY_BOARD:-$repo_root/.build/host/ferry-board}
[[ -x $bin ]] || { echo "smoke-posix: no $bin; run firmware/host/scripts/build-posix.sh" >&2; exit 1; }
[[ -f $repo_root/node_modules/wabt/package.json ]] || { echo "smoke-posix: needs the wabt npm package (npm install at the repo root)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

NODE_PATH=$repo_root/node_modules node - "$tmp" <<'EOF'
const fs = require('fs'), path = require('path');
const dir = process.argv[2];
const mods = {
  add: `(module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))`,
  spin: `(module (func (export "spin") (loop $l (br $l))))`,
  log: `(module (import "log" "write" (func $log (param i32 i32 i32))) (memory 1)
          (data (i32.const 16) "hello from wasm")
          (func (export "hello") (result i32) (call $log (i32.const 1) (i32.const 16) (i32.const 15)) (i32.const 42))
          (func (export "oob") (call $log (i32.const 1) (i32.const 65530) (i32.const 100))))`,
  unknown: `(module (import "env" "nope" (func (param i32))) (func (export "f")))`,
  badsig: `(module (import "log" "write" (func (param i32))) (func (export "f")))`,
  memimport: `(module (import "env" "memory" (memory 1)) (func (export "f")))`,
  trap: `(module (func (export "boom") (result i32) unreachable))`,
  div: `(module (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s))`,
  recurse: `(module (func $r (export "r") (param i32) (result i32) (i32.add (i32.const 1) (call $r (local.get 0)))))`,
  bulk: `(module (memory 1) (func (export "f") (memory.fill (i32.const 0) (i32.const 0) (i32.const 1))))`,
  signext: `(module (func (export "f") (param i32) (result i32) local.get 0 i32.extend8_s))`,
};
require('wabt')().then((wabt) => {
  for (const [name, src] of Object.entries(mods)) {
    const m = wabt.parseWat(`${name}.wat`, src, { bulk_memory: true });
    fs.writeFileSync(path.join(dir, `${name}.wasm`), Buffer.from(m.toBinary({}).buffer));
    m.destroy();
  }
});
EOF
printf 'not wasm' >"$tmp/garbage.wasm"

pass=0 fail=0
# check EXPECTED_RC PATTERN ARGS...: runs ferry-board, expects the exit code and PATTERN (grep -E) in its output.
check() {
  local want_rc=$1 pattern=$2; shift 2
  local out rc=0
  out=$(cd "$tmp" && "$bin" "$@" 2>&1) || rc=$?
  if [[ $rc == "$want_rc" ]] && grep -Eq -- "$pattern" <<<"$out"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL: ferry-board $* -> rc $rc (want $want_rc, /$pattern/)" >&2
    sed 's/^/  | /' <<<"$out" | head -n 20 >&2
  fi
}

check 0 '^5$' add.wasm add 2 3
check 0 '^0$' add.wasm add 0xffffffff 1
check 0 'memory: pool [0-9]+ bytes, in use' add.wasm add 1 1
check 0 'Total memory consumption of module' add.wasm add 1 1
check 0 '\[wasm\] hello from wasm' log.wasm hello
check 3 'trapped: out of bounds memory access' log.wasm oob
check 1 'import env.nope \(i32\) -> \(\): no such host function' unknown.wasm f
check 1 'does not match the host.s signature \(i\*~\)' badsig.wasm f
check 1 'memory imports are not supported' memimport.wasm f
check 1 'load failed: .*magic header' garbage.wasm f
check 1 'load failed: .*unsupported opcode' bulk.wasm f
check 1 'cannot open' missing.wasm f
check 1 "exports no function named 'nope'" add.wasm nope
check 2 'takes 2 argument' add.wasm add 1
check 2 "argument 2 'x' is not a valid i32" add.wasm add 1 x
check 3 'trapped: unreachable' trap.wasm boom
check 3 'trapped: integer divide by zero' div.wasm div 1 0
check 3 'trapped: wasm operand stack overflow' recurse.wasm r 1
check 0 '^-1$' signext.wasm f 0xff
if "$bin" --help | grep -q -- '--fuel N .*\[not in this build\]'; then
  echo "smoke-posix: no instruction metering in this build, runaway-loop check skipped" >&2
else
  check 3 'trapped: instruction limit exceeded' --fuel 1000000 spin.wasm spin
fi
if ! "$bin" --help | grep -q -- '--timeout-ms MS .*\[not in this build\]'; then
  check 3 'trapped: terminated by user' --fuel 0 --timeout-ms 100 spin.wasm spin
fi
echo "$pass passed, $fail failed"
[[ $fail == 0 ]]
