/**
 * @module bench:compose — the composite-stream engine alone (@ferry/compose, in-memory store; no service,
 * HTTP or MQTT yet). Random topologies with the sizes of ServIoTicy's evaluation (Table 1 of its paper:
 * streams, subscriptions and sources), built as its benchmark generator built them (each composite stream
 * sums `{$x.channels.channel0.current-value}` over its inputs, every stream in its own service object,
 * read through groups); 10 updates per source, each sent after the previous one finished propagating.
 * Per topology: p50/p99 propagation time (medians over runs), stale streams after each update against a
 * from-scratch recomputation (must be 0), duplicate outputs (must be 0), and the same updates under
 * ServIoTicy's first-in-first-out dispatching as the baseline, with its stale count. Then the heap the
 * engine holds for 100,000 streams with their latest values, and the fast-path cost of one template
 * evaluation next to a plain closure. Progress on stderr; one JSON line at the end.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { ComposeEngine, MemoryStore, type Output, compileTemplate, evaluate, recompute } from '@ferry/compose';
import { median, measureInterleaved, progress } from './lib.ts';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const PER_SOURCE = 10;
const TABLE_1 = [
  { streams: 21, subscriptions: 30, sources: 11 },
  { streams: 19, subscriptions: 37, sources: 9 },
  { streams: 42, subscriptions: 149, sources: 17 },
  { streams: 43, subscriptions: 151, sources: 18 },
  { streams: 80, subscriptions: 423, sources: 30 },
  { streams: 74, subscriptions: 458, sources: 24 },
];

/** Deterministic PRNG (mulberry32), so every run of the bench measures the same topologies. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Inputs of each composite (indices of earlier nodes; sources come first), exactly `subscriptions` edges in all. */
function topology(t: (typeof TABLE_1)[number], seed: number): number[][] {
  const r = rng(seed);
  const composites = t.streams - t.sources;
  const counts = Array.from({ length: composites }, () => 1);
  for (let left = t.subscriptions - composites; left > 0; ) {
    const i = Math.floor(r() * composites);
    if (counts[i]! < Math.min(30, t.sources + i)) {
      counts[i]!++;
      left--;
    }
  }
  return counts.map((n, i) => {
    const pool = Array.from({ length: t.sources + i }, (_, k) => k);
    for (let k = pool.length - 1; k > 0; k--) {
      const j = Math.floor(r() * (k + 1));
      [pool[k], pool[j]] = [pool[j]!, pool[k]!];
    }
    return pool.slice(0, n);
  });
}

async function install(t: (typeof TABLE_1)[number], inputs: number[][], propagation: 'glitch-free' | 'fifo') {
  const store = new MemoryStore(0);
  const outputs: Output[] = [];
  const e = new ComposeEngine({ store, clock: { now: () => 0 }, propagation, onOutput: (o) => outputs.push(o) });
  const channel = { channel0: { type: 'number', unit: '' } };
  for (let i = 0; i < t.sources; i++) await e.create(`n${i}`, 'bench', { streams: { s: { channels: channel } } });
  for (const [c, ins] of inputs.entries()) {
    const groups = Object.fromEntries(ins.map((k) => [`g${k}`, { soIds: [`n${k}`], stream: 's' }]));
    const cv = `0${ins.map((k) => `+{$g${k}.channels.channel0.current-value}`).join('')}`;
    const r = await e.create(`n${t.sources + c}`, 'bench', {
      groups,
      streams: { s: { channels: { channel0: { ...channel.channel0, 'current-value': cv } } } },
    });
    if (!r.ok) throw r.error;
  }
  return { e, store, outputs };
}

function staleCount(e: ComposeEngine, store: MemoryStore): number {
  let n = 0;
  for (const [k, w] of recompute(e.topology, (key) => store.latest(key))) {
    if (!e.topology.nodes.get(k)!.stream.composite) continue;
    const got = store.latest(k);
    const same =
      w === null || w === undefined
        ? got === undefined
        : got !== undefined && got.lastUpdate === w.lastUpdate && got.channels['channel0'] === w.channels['channel0'];
    if (!same) n++;
  }
  return n;
}

const pct = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

interface TopologyFigures {
  streams: number;
  subscriptions: number;
  sources: number;
  depth: number;
  p50_ms: number;
  p99_ms: number;
  updates_per_sec: number;
  stale: number;
  duplicates: number;
  fifo_stale: number;
  fifo_stale_updates_pct: number;
}

const bar = progress(TABLE_1.length * RUNS, 'topologies');
const results: TopologyFigures[] = [];
for (const [ti, t] of TABLE_1.entries()) {
  const inputs = topology(t, 1000 + ti);
  const p50s: number[] = [];
  const p99s: number[] = [];
  const rates: number[] = [];
  let stale = 0;
  let duplicates = 0;
  let fifoStale = 0;
  let fifoStaleUpdates = 0;
  let updates = 0;
  let depth = 0;
  for (let run = -1; run < RUNS; run++) {
    const gf = await install(t, inputs, 'glitch-free');
    const ff = await install(t, inputs, 'fifo');
    depth = Math.max(...[...gf.e.topology.nodes.values()].map((n) => n.level));
    const r = rng(run + 7);
    const times: number[] = [];
    let lastUpdate = 0;
    for (let round = 0; round < PER_SOURCE; round++) {
      for (let s = 0; s < t.sources; s++) {
        const su = { channels: { channel0: { 'current-value': Math.floor(r() * 100) } }, lastUpdate: ++lastUpdate };
        const t0 = performance.now();
        await gf.e.push(`n${s}`, 's', su);
        times.push(performance.now() - t0);
        await ff.e.push(`n${s}`, 's', su);
        if (run < 0) continue;
        updates++;
        stale += staleCount(gf.e, gf.store);
        const f = staleCount(ff.e, ff.store);
        fifoStale += f;
        if (f > 0) fifoStaleUpdates++;
      }
    }
    if (run < 0) continue; // warm-up
    const ids = gf.outputs.map((o) => `${o.so}/${o.stream}#${o.value.id}`);
    duplicates += ids.length - new Set(ids).size;
    p50s.push(pct(times, 50));
    p99s.push(pct(times, 99));
    rates.push(1000 / (times.reduce((a, b) => a + b, 0) / times.length));
    bar.increment();
  }
  results.push({
    ...t,
    depth,
    p50_ms: Number(median(p50s).toFixed(4)),
    p99_ms: Number(median(p99s).toFixed(4)),
    updates_per_sec: Math.round(median(rates)),
    stale,
    duplicates,
    fifo_stale: fifoStale,
    fifo_stale_updates_pct: Number(((100 * fifoStaleUpdates) / updates).toFixed(1)),
  });
}
bar.stop();

// Heap: 10,000 objects of 10 streams (8 simple, 2 composites over 4 of them), every stream with a latest value.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
process.stderr.write('heap: installing 100,000 streams\n');
gc();
const heapBefore = process.memoryUsage().heapUsed;
const heapStore = new MemoryStore(0);
const heapEngine = new ComposeEngine({ store: heapStore, clock: { now: () => 0 } });
const ch = { v: { type: 'number' } };
const sum = (xs: string[]) => xs.map((x) => `{$${x}.channels.v.current-value}`).join('+');
for (let i = 0; i < 10_000; i++) {
  const streams: Record<string, unknown> = {};
  for (let s = 0; s < 8; s++) streams[`s${s}`] = { channels: ch };
  streams['c0'] = { channels: { v: { type: 'number', 'current-value': sum(['s0', 's1', 's2', 's3']) } } };
  streams['c1'] = { channels: { v: { type: 'number', 'current-value': sum(['s4', 's5', 's6', 's7']) } } };
  const r = await heapEngine.create(`so${i}`, 'bench', { streams });
  if (!r.ok) throw r.error;
  for (let s = 0; s < 8; s++) await heapEngine.push(`so${i}`, `s${s}`, { channels: { v: { 'current-value': s } }, lastUpdate: 1 + s });
}
gc();
const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
const installed = heapEngine.topology.nodes.size;
const withValue = [...heapEngine.topology.nodes.keys()].filter((k) => heapStore.latest(k) !== undefined).length;

// Fast path: one evaluation of ServIoTicy's basic composite template, and a larger one, next to a plain closure.
const basic = compileTemplate('{$A.channels.a.current-value}+{$group.channels.a.current-value}', new Set(['A', 'group']), {});
const large = compileTemplate(
  'Math.max({$A.channels.a.current-value}, {$B.channels.a.current-value}) > 20 ? "hot:" + ({$A.channels.a.current-value} * 1.8 + 32).toFixed(1) : "ok"',
  new Set(['A', 'B']),
  {},
);
if (!basic.ok || !large.ok) throw new Error('bench templates do not compile');
const plain = (a: number, b: number): number => a + b;
let sink = 0;
const figures = await measureInterleaved(
  [
    { name: 'template A + group (fast path)', fn: () => evaluate(basic.value, [3, 4]) },
    { name: 'template with Math, ternary, toFixed', fn: () => evaluate(large.value, [30, 4]) },
    { name: 'plain closure a + b (baseline)', fn: () => (sink += plain(3, 4)) },
  ],
  { runs: RUNS, ms: 200, bar: progress(RUNS * 3, 'fast path') },
);
const ns = (i: number): number => Number((1e9 / figures[i]!.opsPerSec).toFixed(1));

console.log(`Table 1 topologies, ${PER_SOURCE} updates per source, each after the previous finished; medians of ${RUNS} runs`);
console.log('  streams subs sources depth   p50 ms   p99 ms  updates/s  stale dup  FIFO stale (updates with any)');
for (const r of results) {
  console.log(
    `  ${String(r.streams).padStart(7)} ${String(r.subscriptions).padStart(4)} ${String(r.sources).padStart(7)} ${String(r.depth).padStart(5)} ${r.p50_ms.toFixed(3).padStart(8)} ${r.p99_ms.toFixed(3).padStart(8)} ${String(r.updates_per_sec).padStart(10)} ${String(r.stale).padStart(6)} ${String(r.duplicates).padStart(3)}  ${r.fifo_stale} (${r.fifo_stale_updates_pct} %)`,
  );
}
const worstP99 = Math.max(...results.map((r) => r.p99_ms));
console.log(
  `  worst p99 ${worstP99.toFixed(3)} ms (goal <= 50 ms on the largest, engine only); stale ${results.every((r) => r.stale === 0) ? '0 everywhere' : 'NOT 0'}`,
);
console.log(`heap for ${installed} streams (${withValue} with a latest value): ${heapMb.toFixed(1)} MB (goal < 200 MB)`);
for (const [i, f] of figures.entries()) console.log(`  ${f.name.padEnd(40)} ${ns(i).toFixed(1).padStart(8)} ns/evaluation`);
console.log('  a 0.2.0 function in the sandbox: not measured here (the engine runs it through the JsRunner port; no sandbox in this package)');
console.log(
  JSON.stringify({
    bench: 'compose',
    runs: RUNS,
    per_source: PER_SOURCE,
    topologies: results,
    heap: { streams: installed, with_latest_value: withValue, mb: Number(heapMb.toFixed(1)), bytes_per_stream: Math.round((heapMb * 1e6) / installed) },
    fast_path_ns: { basic_template: ns(0), larger_template: ns(1), plain_closure: ns(2) },
    ratios: { basic_template_vs_closure: Number((ns(0) / ns(2)).toFixed(1)) },
    sink: sink > 0 ? 1 : 0,
  }),
);
