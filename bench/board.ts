/**
 * @module bench:board — the thermostat's per-message cost (one tick: read, decide, build + sign the
 * envelope, emit) under WAMR's interpreter (the posix board's `ferry-board bench`, in-process, virtual
 * clock, fast interpreter and, when built, classic) against V8 (the Node EmulatedBoard over
 * @ferry/wasm-host) in the same run; medians of several runs; WAMR's memory for runtime + instance
 * (target <= 160 KiB including the 64 KiB linear memory); the host binary's size; boot-to-first-signed-
 * message time, in-process and over the serial line. Ends with ONE line of JSON.
 *
 *   npx tsx bench/board.ts            (build first: firmware/host/scripts/build-posix.sh; for the classic
 *                                      interpreter also BUILD_DIR=.build/host-classic build-posix.sh -DFERRY_FAST_INTERP=OFF)
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { EmulatedBoard, THERMOSTAT_WASM } from '@ferry/firmware';
import { BoardClient } from '@ferry/serial';
import { median } from './lib.ts';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 7);
const TICKS = Number(process.env['BENCH_TICKS'] ?? 2000);
const REPO = join(import.meta.dirname, '..');
const FAST = join(REPO, '.build/host/ferry-board');
const CLASSIC = join(REPO, '.build/host-classic/ferry-board');
const key = new Uint8Array(32).map((_, i) => i * 3 + 1);

interface WamrFigures {
  interp: string;
  median_ns_per_tick: number;
  messages_per_tick: number;
  boot_ns: number;
  pool_used: number;
  pool_module: number;
  pool_instance: number;
  pool_exec_env: number;
  pool_runtime: number;
  linear_memory: number;
  stack: number;
}

if (!existsSync(FAST)) {
  console.error(`bench:board: no ${FAST}; run firmware/host/scripts/build-posix.sh`);
  process.exit(1);
}

function wamr(bin: string): WamrFigures {
  const out = execFileSync(bin, ['bench', THERMOSTAT_WASM, String(TICKS), String(RUNS)], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1)!) as WamrFigures;
}

/** V8: the same module and ticks in the emulated board; per-run ns per tick. */
async function v8(): Promise<{ ns: number; messagesPerTick: number }> {
  const b = await EmulatedBoard.create({ key, seed: 1 });
  await b.boot();
  for (let i = 0; i < 500; i++) b.tick(10_000); // warm up the JIT tiers
  const runs: number[] = [];
  let messages = 0;
  for (let r = 0; r < RUNS; r++) {
    b.messages.length = 0; // keep memory flat
    const t = process.hrtime.bigint();
    for (let i = 0; i < TICKS; i++) b.tick(10_000);
    runs.push(Number(process.hrtime.bigint() - t) / TICKS);
    messages += b.messages.length;
  }
  return { ns: median(runs), messagesPerTick: messages / (TICKS * RUNS) };
}

/** Boot over the line: spawn -> pty ready, then boot request -> first signed MESSAGE frame (medians). */
async function serialBoot(): Promise<{ spawnMs: number; bootToMessageMs: number }> {
  const spawnMs: number[] = [],
    bootMs: number[] = [];
  for (let r = 0; r < Math.min(RUNS, 5); r++) {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-'));
    writeFileSync(join(dir, 'key'), Buffer.from(key).toString('hex'));
    const t0 = process.hrtime.bigint();
    const p = spawn(
      FAST,
      [
        'serve',
        '--module',
        THERMOSTAT_WASM,
        '--state-dir',
        dir,
        '--key-file',
        join(dir, 'key'),
        '--no-autoboot',
        '--test-control',
        '--die-with-parent',
        '--quiet',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const pty = await new Promise<string>((resolve) =>
      createInterface({ input: p.stdout! }).on('line', (l) => {
        if (l.startsWith('serial ')) resolve(l.slice(7));
      }),
    );
    spawnMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = await BoardClient.open(pty);
    const t1 = process.hrtime.bigint();
    const first = c.waitForMessages(1);
    await c.testBoot();
    await first;
    bootMs.push(Number(process.hrtime.bigint() - t1) / 1e6);
    await c.close();
    p.kill('SIGTERM');
    await new Promise((r2) => p.on('exit', r2));
    rmSync(dir, { recursive: true, force: true });
  }
  return { spawnMs: median(spawnMs), bootToMessageMs: median(bootMs) };
}

const fast = wamr(FAST);
const classic = existsSync(CLASSIC) ? wamr(CLASSIC) : undefined;
const node = await v8();
const boot = await serialBoot();
const size = statSync(FAST).size;
const sizeOut = execFileSync('size', [FAST], { encoding: 'utf8' }).split('\n')[1]!.trim().split(/\s+/).map(Number);
const wamrTotal = fast.pool_used + fast.linear_memory;
const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;

console.log(`thermostat tick (read + decide + sign + emit), ${TICKS} ticks x ${RUNS} runs, medians:`);
console.log(`  WAMR fast interpreter    ${(fast.median_ns_per_tick / 1000).toFixed(1)} µs/tick  (${fast.messages_per_tick.toFixed(2)} messages/tick)`);
if (classic) console.log(`  WAMR classic interpreter ${(classic.median_ns_per_tick / 1000).toFixed(1)} µs/tick`);
console.log(`  V8 (EmulatedBoard)       ${(node.ns / 1000).toFixed(1)} µs/tick  (${node.messagesPerTick.toFixed(2)} messages/tick)`);
console.log(
  `  WAMR fast / V8 = ${(fast.median_ns_per_tick / node.ns).toFixed(1)}x${classic ? `; classic / V8 = ${(classic.median_ns_per_tick / node.ns).toFixed(1)}x` : ''}`,
);
console.log(
  `WAMR memory: pool ${kib(fast.pool_used)} (runtime ${kib(fast.pool_runtime)}, module ${kib(fast.pool_module)}, instance ${kib(fast.pool_instance)}, exec env + ${fast.stack} B stack ${kib(fast.pool_exec_env)}) + linear ${kib(fast.linear_memory)} = ${kib(wamrTotal)} (target <= 160 KiB: ${wamrTotal <= 160 * 1024 ? 'met' : 'MISSED'})`,
);
console.log(
  `host binary: ${size} bytes on disk; text ${sizeOut[0]} data ${sizeOut[1]} bss ${sizeOut[2]} (bss holds the ${kib(262144)} WAMR pool and the state table)`,
);
console.log(
  `boot to first signed message: in-process ${(fast.boot_ns / 1e6).toFixed(2)} ms (runtime init + load + instantiate + boot); over the pty ${boot.bootToMessageMs.toFixed(2)} ms after a boot request, process start to pty ready ${boot.spawnMs.toFixed(1)} ms`,
);
console.log(
  JSON.stringify({
    bench: 'board',
    runs: RUNS,
    ticks: TICKS,
    ns_per_tick: {
      wamr_fast: Math.round(fast.median_ns_per_tick),
      ...(classic && { wamr_classic: Math.round(classic.median_ns_per_tick) }),
      v8: Math.round(node.ns),
    },
    ratio_wamr_fast_vs_v8: Number((fast.median_ns_per_tick / node.ns).toFixed(2)),
    ...(classic && { ratio_wamr_classic_vs_v8: Number((classic.median_ns_per_tick / node.ns).toFixed(2)) }),
    wamr_memory_bytes: {
      pool_used: fast.pool_used,
      runtime: fast.pool_runtime,
      module: fast.pool_module,
      instance: fast.pool_instance,
      exec_env: fast.pool_exec_env,
      linear: fast.linear_memory,
      total: wamrTotal,
      target: 160 * 1024,
    },
    host_binary_bytes: { file: size, text: sizeOut[0], data: sizeOut[1], bss: sizeOut[2] },
    boot_to_first_message_ms: {
      in_process: Number((fast.boot_ns / 1e6).toFixed(3)),
      serial_after_boot_request: Number(boot.bootToMessageMs.toFixed(3)),
      process_start_to_pty: Number(boot.spawnMs.toFixed(2)),
    },
  }),
);
