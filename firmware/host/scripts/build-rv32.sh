#!/usr/bin/env bash
# Builds the rv32 board in .build/rv32: ferry-board.elf (RV32IMC, WAMR + firmware/host/src + rv32/),
# and installs rv32/ferry-board-rv32.sh beside it as `ferry-board`, the command hw-tests and
# bench/mcu.ts run (it starts QEMU), and as `ferry-frame-vectors` (ferry-frame-vectors.elf, the framing
# filter of hw-tests/frame-vectors.test.ts). Fetches WAMR first (fetch-wamr.sh). Extra arguments go to the
# CMake configure step, e.g. -DFERRY_FAST_INTERP=OFF. BUILD_DIR overrides the build folder.
# Needs Debian's gcc-riscv64-unknown-elf, picolibc-riscv64-unknown-elf and, to run, qemu-system-misc.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
build_dir=${BUILD_DIR:-$repo_root/.build/rv32}
rv32=$repo_root/firmware/host/rv32

for tool in cmake riscv64-unknown-elf-gcc; do
  command -v "$tool" >/dev/null || { echo "build-rv32: $tool not found (Debian: apt-get install cmake gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf)" >&2; exit 1; }
done

wamr_root=$("$repo_root/firmware/host/scripts/fetch-wamr.sh")

generator=()
if [[ ! -f $build_dir/CMakeCache.txt ]] && command -v ninja >/dev/null; then generator=(-G Ninja); fi

mkdir -p "$build_dir"
cmake -S "$rv32" -B "$build_dir" "${generator[@]}" -DCMAKE_TOOLCHAIN_FILE="$rv32/toolchain.cmake" \
  -DCMAKE_BUILD_TYPE=Release -DWAMR_ROOT="$wamr_root" "$@" >"$build_dir/configure.log" 2>&1 \
  || { cat "$build_dir/configure.log" >&2; exit 1; }
cmake --build "$build_dir" -j 2
install -m 755 "$rv32/ferry-board-rv32.sh" "$build_dir/ferry-board"
install -m 755 "$rv32/ferry-board-rv32.sh" "$build_dir/ferry-frame-vectors" # the same launcher, by its name

elf=$build_dir/ferry-board.elf
echo "build-rv32: $elf (text+data+bss: $(riscv64-unknown-elf-size "$elf" | awk 'NR == 2 { print $1 "+" $2 "+" $3 }'))"
