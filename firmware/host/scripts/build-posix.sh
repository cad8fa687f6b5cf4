#!/usr/bin/env bash
# Builds .build/host/ferry-board for Linux: fetches WAMR (fetch-wamr.sh), configures with CMake
# (Ninja when available) and builds in Release with 2 jobs. Extra arguments go to the CMake
# configure step, e.g. -DFERRY_FAST_INTERP=OFF or -DFERRY_POOL_SIZE=131072.
# BUILD_DIR overrides the build folder (default .build/host).
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
build_dir=${BUILD_DIR:-$repo_root/.build/host}

for tool in cmake cc; do
  command -v "$tool" >/dev/null || { echo "build-posix: $tool not found (Debian: apt-get install cmake build-essential)" >&2; exit 1; }
done

wamr_root=$("$repo_root/firmware/host/scripts/fetch-wamr.sh")

generator=()
# Keep whatever generator an existing build folder was made with; else prefer Ninja.
if [[ ! -f $build_dir/CMakeCache.txt ]] && command -v ninja >/dev/null; then generator=(-G Ninja); fi

# WAMR's configure step prints a long feature list: keep it in a log, show it only on failure.
mkdir -p "$build_dir"
cmake -S "$repo_root/firmware/host" -B "$build_dir" "${generator[@]}" \
  -DCMAKE_BUILD_TYPE=Release -DWAMR_ROOT="$wamr_root" "$@" >"$build_dir/configure.log" 2>&1 \
  || { cat "$build_dir/configure.log" >&2; exit 1; }
cmake --build "$build_dir" -j 2

bin=$build_dir/ferry-board
echo "build-posix: $bin ($(stat -c %s "$bin") bytes; text+data+bss: $(size "$bin" | awk 'NR == 2 { print $1 "+" $2 "+" $3 }'))"
