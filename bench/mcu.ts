/**
 * @module bench:mcu — the rv32 board (firmware/host/rv32: WAMR on RV32IMC under QEMU) in figures a
 * microcontroller is judged by. Instruction counts come from QEMU's -icount (minstret counts exactly the
 * retired instructions), so they are deterministic: the same build gives the same numbers on any
 * machine. Per thermostat tick (read, decide, build and sign the envelope, emit it on the UART), per
 * signed command (verified, applied and acked) and per boot (runtime start, load, instantiate, boot() with its signed message); with the ESP32-C3's 160 MHz
 * clock an estimated time, at one instruction per cycle (a lower bound: the C3 is a single-issue in-order
 * core, and flash cache misses cost more). Beside it, measured in the same run: the posix board's
 * `ferry-board bench` (same C, x86-64, wall clock) and V8 (the Node EmulatedBoard). Memory high-water
 * marks (WAMR's pool, the heap holding linear memory and module images, the stack) and the image size.
 * Goals: a tick within 1 ms at 160 MHz; everything inside 192 KiB of RAM. Ends with ONE line of JSON.
 *
 *   npm run bench:mcu           (builds .build/rv32; the classic interpreter is included when
 *                                BUILD_DIR=.build/rv32-classic firmware/host/scripts/build-rv32.sh -DFERRY_FAST_INTERP=OFF
 *                                has been run, the posix figures when .build/host exists)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EmulatedBoard, THERMOSTAT_WASM } from '@ferry/firmware';
import { median } from './lib.ts';

const TICKS = Number(process.env['BENCH_TICKS'] ?? 500);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const MHZ = 160;
const REPO = join(import.meta.dirname, '..');
const RV32 = join(REPO, '.build/rv32');
const RV32_CLASSIC = join(REPO, '.build/rv32-classic');
const POSIX = join(REPO, '.build/host/ferry-board');
const GOAL_TICK_MS = 1;
const GOAL_RAM = 192 * 1024;

/** What `ferry-board bench` prints on the rv32 board (rv32/bench_rv32.c). */
interface Rv32Figures {
  interp: string;
  ticks: number;
  messages: number;
  boot_instructions: number;
  tick_instructions_median: number;
  tick_instructions_p99: number;
  tick_instructions_max: number;
  hmac300_instructions: number;
  pool_size: number;
  pool_peak: number;
  pool_module: number;
  pool_instance: number;
  pool_exec_env: number;
  linear_memory: number;
  module_size: number;
  heap_peak: number;
  stack_peak: number;
  stack_size: number;
  static_ram: number;
  commands: number;
  commands_delivered: number;
  command_instructions_median: number;
  command_instructions_p99: number;
}

function rv32(dir: string): Rv32Figures {
  const out = execFileSync(join(dir, 'ferry-board'), ['bench', THERMOSTAT_WASM, String(TICKS)], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1)!) as Rv32Figures;
}

/** text, data, bss of the image (binutils size, Berkeley format). */
function imageSize(dir: string): { text: number; data: number; bss: number } {
  const out = execFileSync('riscv64-unknown-elf-size', [join(dir, 'ferry-board.elf')], { encoding: 'utf8' });
  const [text, data, bss] = out.trim().split('\n')[1]!.trim().split(/\s+/).map(Number);
  return { text: text!, data: data!, bss: bss! };
}

/** RAM the board reserves (static data and bss, the stack, the heap it reached) and what it touched. */
function ram(f: Rv32Figures): { reserved: number; used: number } {
  return {
    reserved: f.static_ram + f.stack_size + f.heap_peak,
    used: f.static_ram - f.pool_size + f.pool_peak + f.heap_peak + f.stack_peak,
  };
}

async function v8NsPerTick(): Promise<number> {
  const b = await EmulatedBoard.create({ key: new Uint8Array(32).map((_, i) => i * 3 + 1), seed: 1 });
  await b.boot();
  for (let i = 0; i < 500; i++) b.tick(10_000); // warm up the JIT tiers
  const runs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    b.messages.length = 0;
    const t = process.hrtime.bigint();
    for (let i = 0; i < TICKS; i++) b.tick(10_000);
    runs.push(Number(process.hrtime.bigint() - t) / TICKS);
  }
  return median(runs);
}

if (!existsSync(join(RV32, 'ferry-board'))) {
  console.error(`bench:mcu: no ${RV32}/ferry-board; run firmware/host/scripts/build-rv32.sh`);
  process.exit(1);
}
console.error(`bench:mcu: ${TICKS} ticks under QEMU -icount ...`);
const fast = rv32(RV32);
const again = rv32(RV32); // deterministic: a second run must give the same counts
const deterministic = again.tick_instructions_median === fast.tick_instructions_median && again.boot_instructions === fast.boot_instructions;
const classic = existsSync(join(RV32_CLASSIC, 'ferry-board')) ? rv32(RV32_CLASSIC) : undefined;
console.error('bench:mcu: the posix board and V8, wall clock ...');
const posix = existsSync(POSIX)
  ? (JSON.parse(
      execFileSync(POSIX, ['bench', THERMOSTAT_WASM, String(TICKS), String(RUNS)], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .at(-1)!,
    ) as { median_ns_per_tick: number })
  : undefined;
const v8 = await v8NsPerTick();
const image = imageSize(RV32);

const ms = (instructions: number): number => instructions / (MHZ * 1000);
const kib = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;
const mem = ram(fast);
const tickMs = ms(fast.tick_instructions_median);

console.log(
  `rv32 board (RV32IMC, WAMR ${fast.interp} interpreter), thermostat, ${TICKS} ticks, instructions from QEMU -icount${deterministic ? ' (identical in two runs)' : ' (DIFFERED between two runs)'}:`,
);
console.log(
  `  tick   median ${fast.tick_instructions_median.toLocaleString('en')} instructions, p99 ${fast.tick_instructions_p99.toLocaleString('en')} (a tick with a decision signs two messages)`,
);
console.log(
  `         est. ${tickMs.toFixed(2)} ms at ${MHZ} MHz, 1 instruction/cycle (goal ${GOAL_TICK_MS} ms: ${tickMs <= GOAL_TICK_MS ? 'met' : 'NOT met'})`,
);
console.log(
  `  of which HMAC-SHA256 of a 300-byte signing input: ${fast.hmac300_instructions.toLocaleString('en')} instructions; the rest is WAMR interpreting the module`,
);
console.log(`  boot   ${fast.boot_instructions.toLocaleString('en')} instructions, est. ${ms(fast.boot_instructions).toFixed(1)} ms at ${MHZ} MHz`);
if (classic)
  console.log(
    `  classic interpreter: tick ${classic.tick_instructions_median.toLocaleString('en')} instructions (${ms(classic.tick_instructions_median).toFixed(2)} ms), boot ${classic.boot_instructions.toLocaleString('en')}`,
  );
console.log(
  `  per signed command (verify, replay window, apply, signed cmd.ack; ${fast.commands_delivered} of ${fast.commands} delivered): median ${fast.command_instructions_median.toLocaleString('en')} instructions, p99 ${fast.command_instructions_p99.toLocaleString('en')}, est. ${ms(fast.command_instructions_median).toFixed(2)} ms at ${MHZ} MHz`,
);
console.log('side by side, per tick:');
console.log(`  rv32 @ ${MHZ} MHz (est.)   ${(tickMs * 1000).toFixed(0)} µs`);
if (posix) console.log(`  posix board (x86-64)    ${(posix.median_ns_per_tick / 1000).toFixed(1)} µs (measured, median of ${RUNS})`);
console.log(`  V8 (EmulatedBoard)      ${(v8 / 1000).toFixed(1)} µs (measured, median of ${RUNS})`);
console.log('memory high-water marks:');
console.log(
  `  WAMR pool ${kib(fast.pool_peak)} of ${kib(fast.pool_size)} (module ${kib(fast.pool_module)}, instance ${kib(fast.pool_instance)}, exec env + wasm stack ${kib(fast.pool_exec_env)})`,
);
console.log(`  heap ${kib(fast.heap_peak)} (linear memory ${kib(fast.linear_memory)}, module image ${kib(fast.module_size)} until loaded)`);
console.log(`  C stack ${kib(fast.stack_peak)} of ${kib(fast.stack_size)}`);
console.log(
  `  RAM reserved ${kib(mem.reserved)} (static ${kib(fast.static_ram)} + stack + heap peak), touched ${kib(mem.used)}; goal ${kib(GOAL_RAM)}: ${mem.reserved <= GOAL_RAM ? 'met' : 'NOT met'}`,
);
console.log(
  `image: text ${kib(image.text)}, data ${kib(image.data)}, bss ${kib(image.bss)} (ELF ${kib(statSync(join(RV32, 'ferry-board.elf')).size)} with symbols)`,
);
console.log(
  JSON.stringify({
    bench: 'mcu',
    clock_mhz: MHZ,
    ticks: TICKS,
    deterministic,
    tick_instructions: fast.tick_instructions_median,
    tick_instructions_p99: fast.tick_instructions_p99,
    tick_ms_est: Number(tickMs.toFixed(3)),
    hmac300_instructions: fast.hmac300_instructions,
    boot_instructions: fast.boot_instructions,
    boot_ms_est: Number(ms(fast.boot_instructions).toFixed(2)),
    command_instructions: fast.command_instructions_median,
    command_instructions_p99: fast.command_instructions_p99,
    command_ms_est: Number(ms(fast.command_instructions_median).toFixed(3)),
    commands_delivered: fast.commands_delivered,
    classic_tick_instructions: classic?.tick_instructions_median ?? null,
    posix_ns_per_tick: posix ? Math.round(posix.median_ns_per_tick) : null,
    v8_ns_per_tick: Math.round(v8),
    rv32_est_vs_posix: posix ? Number(((tickMs * 1e6) / posix.median_ns_per_tick).toFixed(1)) : null,
    pool_peak: fast.pool_peak,
    pool_size: fast.pool_size,
    heap_peak: fast.heap_peak,
    stack_peak: fast.stack_peak,
    ram_reserved: mem.reserved,
    ram_used: mem.used,
    image,
    goals: { tick_1ms: tickMs <= GOAL_TICK_MS, ram_192k: mem.reserved <= GOAL_RAM },
  }),
);
