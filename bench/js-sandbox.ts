/**
 * @module bench:js-sandbox — what a ServIoTicy 0.2.0 composite function costs in the QuickJS sandbox
 * (@ferry/js-sandbox), against the same function as a plain closure of the host, measured in the same
 * run: per-call latency p50/p99 of a warm call (compiled and cached), of a first call of a new source
 * (compile + call, in a warm runtime), and of an owner's first call (a new runtime: its locked-down
 * environment, then compile and call). Phases interleaved run by run; medians of the runs, ratios to the
 * closure; ends with one JSON line.
 */
import { JsSandboxPool } from '@ferry/js-sandbox';
import { median, progress } from './lib.ts';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const WARM_CALLS = Number(process.env['BENCH_CALLS'] ?? 20_000);
const COLD_CALLS = Number(process.env['BENCH_COLD_CALLS'] ?? 500);
const BOOTS = Number(process.env['BENCH_BOOTS'] ?? 20);

/** A typical 0.2.0 composite: the mean of one stream's array channel plus the latest value of a group's. */
const SOURCE = `function(A, group){
  var s = 0;
  A.channels.a['current-value'].forEach(function(v){ s += v; });
  var mean = s / A.channels.a['current-value'].length;
  return Math.round((mean + group.channels.b['current-value']) * 100) / 100;
}`;
const ARGS = [
  { channels: { a: { 'current-value': [20.1, 21.7, 19.9, 22.3, 20.8, 21.1, 20.5, 19.7, 22.9, 21.4] } }, lastUpdate: 1_700_000_000_000 },
  { channels: { b: { 'current-value': 1.5 } }, lastUpdate: 1_700_000_000_500 },
];

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};

const pool = await JsSandboxPool.create({ maxOwners: 8 });
// biome-ignore lint/security/noGlobalEval: the baseline compiles the bench's own fixed source in the host
const hostEval = globalThis.eval;
const closure = hostEval(`(${SOURCE})`) as (...a: unknown[]) => unknown;
const expected = closure(...structuredClone(ARGS));
const check = (r: ReturnType<JsSandboxPool['run']>): void => {
  if (!r.ok) throw r.error;
  if (r.value !== expected) throw new Error(`sandbox gave ${String(r.value)}, the closure ${String(expected)}`);
};

/** Per-call latencies (ms) of `n` calls of `call`. */
function sample(n: number, call: (i: number) => void): number[] {
  const lat = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    call(i);
    lat[i] = performance.now() - t0;
  }
  return lat;
}

let fresh = 0;
const PHASES: readonly { name: string; n: number; call: (i: number) => void }[] = [
  // The closure gets the same deep copy of its arguments the sandbox makes (JSON text in).
  { name: 'closure (host engine, args deep-copied)', n: WARM_CALLS, call: () => void closure(...JSON.parse(JSON.stringify(ARGS))) },
  { name: 'sandbox warm call', n: WARM_CALLS, call: () => check(pool.run('bench', SOURCE, ARGS)) },
  {
    name: 'sandbox first call of a new source',
    n: COLD_CALLS,
    call: () => check(pool.run('bench', `${SOURCE} // ${++fresh}`, ARGS)),
  },
  {
    name: "sandbox owner's first call (new runtime)",
    n: BOOTS,
    call: () => check(pool.run(`owner-${++fresh}`, SOURCE, ARGS)),
  },
];

for (const p of PHASES) sample(Math.min(p.n, 2000), p.call); // warm-up: JIT, caches, the wasm module
const p50s = PHASES.map(() => [] as number[]);
const p99s = PHASES.map(() => [] as number[]);
const bar = progress(RUNS * PHASES.length, 'bench:js-sandbox');
for (let r = 0; r < RUNS; r++) {
  for (const [k, p] of PHASES.entries()) {
    const lat = sample(p.n, p.call);
    p50s[k]!.push(quantile(lat, 0.5));
    p99s[k]!.push(quantile(lat, 0.99));
    bar.increment();
  }
}
bar.stop();
const stats = pool.stats();
pool.close();

const base50 = median(p50s[0]!);
const base99 = median(p99s[0]!);
const us = (ms: number): string => `${(ms * 1000).toFixed(1)} us`;
console.log(`a 0.2.0 composite (forEach over 10 values, Math.round), per-call latency, medians of ${RUNS} runs:`);
const rows = PHASES.map((p, k) => {
  const p50 = median(p50s[k]!);
  const p99 = median(p99s[k]!);
  console.log(
    `  ${p.name.padEnd(42)} p50 ${us(p50).padStart(10)} (x${(p50 / base50).toFixed(1)})  p99 ${us(p99).padStart(10)} (x${(p99 / base99).toFixed(1)})  calls/run ${p.n}`,
  );
  return { phase: p.name, p50_us: Number((p50 * 1000).toFixed(2)), p99_us: Number((p99 * 1000).toFixed(2)), p50_ratio: Number((p50 / base50).toFixed(2)) };
});
console.log(`  engine: ${(stats.wasmMemoryBytes / 1048576).toFixed(0)} MiB linear memory, ${stats.owners} runtimes kept, ${stats.faults} faults`);
console.log(JSON.stringify({ bench: 'js-sandbox', runs: RUNS, rows, wasm_memory_mib: Number((stats.wasmMemoryBytes / 1048576).toFixed(1)) }));
