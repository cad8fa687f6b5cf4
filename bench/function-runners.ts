/**
 * @module bench:function-runners — the function runners without a transport, the figures of docs/functions.md
 * "Runners" that bench:functions does not give: in-process calls/s by token kind (private, public) and for a
 * call that commits state (`incr`), then the worker pool's warm sequential latency and its throughput with 64
 * calls in flight on one namespace (serialised) and on 64. Medians of several runs; ends with one JSON line.
 */
import { FunctionService, PoolRunner } from '@ferry/cloud/functions';

const ownerRate = { perSecond: 1e9, burst: 1e9 };
import { KV_WAT, owner, unwrap } from '@ferry/test-kit/functions';
import { wat } from '@ferry/test-kit/wat';
import { fmt, median, progress } from './lib.ts';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const N = Number(process.env['BENCH_CALLS'] ?? 300_000);
const alice = owner('alice');
const bar = progress(RUNS * 6, 'bench:function-runners');

async function inProcess(): Promise<Record<string, number>> {
  // The bench calls with the private token far past its default rate (1000/s): measured here is the protocol.
  const svc = new FunctionService({ ownerRate });
  unwrap(svc.register(alice.token));
  const { hash } = unwrap(await svc.upload({ bytes: wat(KV_WAT), token: alice.token, namespace: 'home' }));
  unwrap(svc.setWhitelisted(alice.token, 'home', hash, true));
  const pub = alice.mint({ rate: { perSecond: 1_000_000, burst: 1_000_000 } }, Date.now());
  const out: Record<string, number> = {};
  for (const [key, token, exp, args] of [
    ['private_add', alice.token, 'add', [1, 2]],
    ['public_add', pub, 'add', [1, 2]],
    ['public_incr', pub, 'incr', []],
  ] as const) {
    const req = { hash, export: exp, args, namespace: 'home', token };
    for (let i = 0; i < 20_000; i++) await svc.handleCall(req);
    const rates: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const t0 = performance.now();
      for (let i = 0; i < N; i++) await svc.handleCall(req);
      rates.push((N * 1000) / (performance.now() - t0));
      bar.increment();
    }
    out[key] = Math.round(median(rates));
  }
  return out;
}

async function pooled(): Promise<{ p50_us: number; p99_us: number; one_ns: number; ns64: number }> {
  // One owner here: its in-flight cap and CPU budget raised to the pool's size, to measure the pool itself.
  const pool = new PoolRunner({ size: 4, timeoutMs: 2000, fairness: { maxInFlight: 4, cpuMs: 1e9 } });
  const svc = new FunctionService({ runner: pool, ownerRate });
  unwrap(svc.register(alice.token));
  const { hash } = unwrap(await svc.upload({ bytes: wat(KV_WAT), token: alice.token, namespace: 'home' }));
  await pool.ready();
  const req = { hash, export: 'add', args: [1, 2], namespace: 'home', token: alice.token };
  for (let i = 0; i < 2000; i++) await svc.handleCall(req);
  const p50: number[] = [];
  const p99: number[] = [];
  const spread = new Map<number, number[]>([
    [1, []],
    [64, []],
  ]);
  for (let r = 0; r < RUNS; r++) {
    const lat: number[] = [];
    for (let i = 0; i < 5000; i++) {
      const t = performance.now();
      await svc.handleCall(req);
      lat.push(performance.now() - t);
    }
    lat.sort((a, b) => a - b);
    p50.push(lat[Math.floor(0.5 * (lat.length - 1))]! * 1000);
    p99.push(lat[Math.floor(0.99 * (lat.length - 1))]! * 1000);
    bar.increment();
    for (const [namespaces, rates] of spread) {
      const M = 50_000;
      const t0 = performance.now();
      let inflight: Promise<unknown>[] = [];
      for (let i = 0; i < M; i++) {
        inflight.push(svc.handleCall({ ...req, namespace: `ns${i % namespaces}` }));
        if (inflight.length === 64) {
          await Promise.all(inflight);
          inflight = [];
        }
      }
      await Promise.all(inflight);
      rates.push((M * 1000) / (performance.now() - t0));
      bar.increment();
    }
  }
  await pool.close();
  return {
    p50_us: Math.round(median(p50)),
    p99_us: Math.round(median(p99)),
    one_ns: Math.round(median(spread.get(1)!)),
    ns64: Math.round(median(spread.get(64)!)),
  };
}

const calls = await inProcess();
const pool = await pooled();
bar.stop();
console.log(`medians of ${RUNS} runs; in process: ${N} sequential calls per run; pool of 4: 5000 sequential calls, then 50 000 with 64 in flight`);
for (const [label, key] of [
  ['private token, add(i32,i32)', 'private_add'],
  ['public token, add(i32,i32)', 'public_add'],
  ['public token, incr (state get+set, commit)', 'public_incr'],
] as const) {
  console.log(`  in process, ${`${label}:`.padEnd(44)} ${fmt(calls[key]!)}`);
}
console.log(`  pool(4), warm sequential latency: p50 ${pool.p50_us} µs, p99 ${pool.p99_us} µs`);
console.log(`  pool(4), 64 in flight: one namespace (serialised) ${fmt(pool.one_ns)}, 64 namespaces ${fmt(pool.ns64)}`);
console.log(
  JSON.stringify({
    bench: 'function-runners',
    runs: RUNS,
    calls_per_run: N,
    in_process_calls_per_sec: calls,
    pool4: { warm_us: { p50: pool.p50_us, p99: pool.p99_us }, in_flight_64_calls_per_sec: { one_namespace: pool.one_ns, namespaces_64: pool.ns64 } },
  }),
);
