#!/usr/bin/env bash
# ferry-board for the rv32 board: the posix ferry-board's command line (posix/board_posix.c, src/main.c),
# run by QEMU's RISC-V `virt` machine on ferry-board.elf. scripts/build-rv32.sh installs this file as
# .build/rv32/ferry-board, beside the image, so hw-tests drive it exactly like the posix board
# (FERRY_BOARD_BUILD_DIR). What a command-line option sets on the posix board is provisioned here into
# the board's flash (rv32/flash_rv32.h): a file state-dir/flash.bin that QEMU maps as its pflash0.
#
#   ferry-board serve --module M.wasm [--state-dir D] [--key-file F] [--device-id ID] [--seed N]
#                     [--start-ms MS] [--room-initial|outside|loss|heat|noise X] [--tick-ms N]
#                     [--no-autoboot] [--test-control] [--stack B] [--fuel N] [--link PATH]
#                     [--die-with-parent] [--quiet]         prints "serial /dev/pts/N" like the posix board
#   ferry-board [--stack B] [--fuel N] MODULE.wasm EXPORT [I32...]   one-shot call (exit 0/1/2/3)
#   ferry-board bench MODULE.wasm [TICKS]                   instruction counts and memory, one JSON line
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
elf=$here/ferry-board.elf
die() { echo "ferry-board (rv32): $*" >&2; exit 2; }
[[ -f $elf ]] || die "no $elf: run firmware/host/scripts/build-rv32.sh"
command -v qemu-system-riscv32 >/dev/null || die "qemu-system-riscv32 not found (Debian: apt-get install qemu-system-misc)"

# RV32IMC like the ESP32-C3: QEMU's rv32 CPU without atomics and floating point. With pflash0 present
# QEMU starts at the flash's first word (the boot vector written below); -m only has to hold the
# image, QEMU's device tree (placed at a 16 MiB boundary) and nothing else: the board's RAM budget is
# the linker script's (rv32/CMakeLists.txt).
qemu_for() { # ELF RAM
  qemu=(qemu-system-riscv32 -M virt -cpu rv32,a=false,f=false,d=false -m "$2" -bios none -kernel "$1"
    -display none -monitor none -no-reboot -semihosting-config enable=on,target=native)
}
qemu_for "$elf" 32M

SECTOR=262144
# lui t0, 0x80000; jalr zero, 0(t0): jump to the image (little-endian words).
BOOT_VECTOR='\xb7\x02\x00\x80\x67\x80\x02\x00'

# provision FLASH CONFIG_TEXT MODULE: the boot vector, the provisioning text and the factory module.
# Slots and records (blocks 2..) are kept, as a real board's flash keeps them across resets.
provision() {
  local flash=$1 text=$2 module=$3 size
  [[ -f $module ]] || die "cannot open $module"
  size=$(stat -c %s "$module")
  ((size > 0 && size <= SECTOR)) || die "$module: $size bytes does not fit the factory block ($SECTOR)"
  [[ -f $flash ]] || truncate -s 32M "$flash"
  printf "$BOOT_VECTOR" | dd of="$flash" conv=notrunc status=none
  printf '%sfactory_size %s\n\0' "$text" "$size" | dd of="$flash" bs=16 seek=1 conv=notrunc status=none
  dd if="$module" of="$flash" bs=$SECTOR seek=1 conv=notrunc status=none
}

# The key file as hex: 64+ hex digits (whitespace ignored) or >= 32 raw bytes, as sim_load_key reads it.
key_hex() {
  local hex
  hex=$(tr -d ' \t\r\n' <"$1") || die "cannot open $1"
  if [[ -z $hex || ! $hex =~ ^[0-9a-fA-F]+$ || $(( ${#hex} % 2 )) != 0 ]]; then hex=$(od -An -tx1 -v "$1" | tr -d ' \n'); fi
  (( ${#hex} >= 64 && ${#hex} <= 128 )) || die "$1: the key must be 32..64 bytes (RFC 7518 §3.2)"
  printf '%s' "$hex"
}

num() { [[ $2 =~ ^-?[0-9]+(\.[0-9]+)?(e-?[0-9]+)?$ ]] || die "bad option $1 $2"; }

# Reads QEMU's stdout: the pty line becomes "serial PATH" (and --link PATH), the rest goes to stderr.
pty_line() {
  local line re='^char device redirected to (.*) \(label serial0\)$'
  while IFS= read -r line; do
    if [[ $line =~ $re ]]; then
      echo "serial ${BASH_REMATCH[1]}"
      [[ -z $1 ]] || ln -sfn "${BASH_REMATCH[1]}" "$1"
    else
      echo "$line" >&2
    fi
  done
}

serve() {
  local module='' state=${FERRY_STATE_DIR:-ferry-state} link='' pdeath=() text='' o v args=("$@")
  while (($#)); do
    o=$1 v=${2:-}
    case $o in
    --no-autoboot) text+=$'autoboot 0\n'; shift; continue ;;
    --test-control) text+=$'test_control 1\n'; shift; continue ;;
    --quiet) text+=$'quiet 1\n'; shift; continue ;;
    --die-with-parent) pdeath=(setpriv --pdeathsig KILL); shift; continue ;;
    --help) sed -n '2,16p' "${BASH_SOURCE[0]}"; exit 0 ;;
    esac
    (($# >= 2)) || die "bad option $o"
    case $o in
    --module) module=$v ;;
    --state-dir) state=$v ;;
    --key-file) text+="key $(key_hex "$v")"$'\n' ;;
    --link) link=$v ;;
    --device-id) [[ $v =~ ^[A-Za-z0-9._-]{1,32}$ ]] || die "bad option $o $v"; text+="device_id $v"$'\n' ;;
    --seed | --start-ms | --tick-ms | --stack | --fuel | --room-initial | --room-outside | --room-loss | --room-heat | --room-noise)
      num "$o" "$v"; o=${o#--}; text+="${o//-/_} $v"$'\n' ;;
    *) die "bad option $o" ;;
    esac
    shift 2
  done
  [[ -n $module ]] || die "serve needs --module FACTORY.wasm"
  # Dies with the test runner: this shell (exec'ed under setpriv once) and QEMU with this shell.
  if ((${#pdeath[@]})) && [[ -z ${FERRY_RV32_PDEATH:-} ]]; then FERRY_RV32_PDEATH=1 exec "${pdeath[@]}" "$0" serve "${args[@]}"; fi
  mkdir -p "$state"
  provision "$state/flash.bin" "$text" "$module"
  # QEMU names the pty on its stdout ("char device redirected to /dev/pts/N (label serial0)"): turned
  # into the posix board's "serial /dev/pts/N"; anything else it prints there goes to stderr, where the
  # board's logs are (semihosting). stdbuf -oL: QEMU prints that line with stdio, which a pipe may hold.
  # file.locking=off: after a power cut the next QEMU may open the flash while the old one is still
  # being reaped; the old one writes nothing more.
  stdbuf -oL setpriv --pdeathsig KILL "${qemu[@]}" -serial pty \
    -drive "if=pflash,unit=0,format=raw,file=$state/flash.bin,file.locking=off" > >(pty_line "$link") &
  local pid=$!
  # A stop (SIGTERM) is a power-off: QEMU 7.2 can deadlock shutting down while the board writes its
  # flash (the vCPU waits in blk_pwrite for the main loop, which waits for the vCPU), and the board's
  # records are written to survive a cut at any point anyway. A SIGKILL of this shell reaches QEMU
  # through its parent-death signal: a power cut.
  trap 'kill -KILL "$pid" 2>/dev/null' TERM INT
  wait "$pid" || true
  wait "$pid" 2>/dev/null || true
}

# oneshot MODE TEXT MODULE [QEMU ARGS...]: a throwaway flash; the board appends its results to a host
# file (semihosting) printed here afterwards; QEMU's exit status is the board's.
oneshot() {
  local text=$2 module=$3 dir rc=0
  shift 3
  dir=$(mktemp -d)
  provision "$dir/flash.bin" "${text}out_path $dir/out"$'\n' "$module"
  "${qemu[@]}" "$@" -serial null -drive "if=pflash,unit=0,format=raw,file=$dir/flash.bin" || rc=$?
  [[ ! -f $dir/out ]] || cat "$dir/out"
  rm -rf "$dir"
  return "$rc"
}

# Installed as ferry-frame-vectors too: the framing filter (src/frame_vectors.c) on the same target,
# stdin and stdout through host files (frame_vectors_rv32.c).
if [[ $(basename "$0") == ferry-frame-vectors ]]; then
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' EXIT
  cat >"$dir/in"
  truncate -s 32M "$dir/flash.bin"
  printf "$BOOT_VECTOR" | dd of="$dir/flash.bin" conv=notrunc status=none
  printf 'in %s\nout %s\n\0' "$dir/in" "$dir/out" | dd of="$dir/flash.bin" bs=16 seek=1 conv=notrunc status=none
  rc=0
  qemu_for "$here/ferry-frame-vectors.elf" 64M # its line buffers: RAM to 0x81200000, the device tree above
  "${qemu[@]}" -serial null -drive "if=pflash,unit=0,format=raw,file=$dir/flash.bin" || rc=$?
  [[ ! -f $dir/out ]] || cat "$dir/out"
  exit "$rc"
fi

case ${1:-} in
serve) shift; serve "$@" ;;
bench)
  (($# >= 2)) || die "usage: ferry-board bench MODULE.wasm [TICKS]"
  # -icount shift=0: one instruction = one virtual ns, so minstret is QEMU's exact instruction count.
  oneshot bench $'mode bench\nquiet 1\n'"bench_ticks ${3:-200}"$'\n' "$2" -icount shift=0 ;;
*)
  text=$'mode call\nquiet 1\n'
  while [[ ${1:-} == --* ]]; do
    case $1 in
    --stack | --fuel) (($# >= 2)) && num "$1" "$2"; text+="${1#--} $2"$'\n'; shift 2 ;;
    --help) sed -n '2,16p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "bad option $1" ;;
    esac
  done
  (($# >= 2)) || die "usage: ferry-board [--stack B] [--fuel N] MODULE.wasm EXPORT [I32...]"
  module=$1 export=$2
  shift 2
  oneshot call "${text}call_export $export"$'\n'"call_args $*"$'\n' "$module" ;;
esac
