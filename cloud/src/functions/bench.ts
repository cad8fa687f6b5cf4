/**
 * @module Quick figures for docs/functions.md (prints, asserts nothing: a timed assertion would fail on a
 * loaded machine): in-process calls/s through the whole protocol, and pooled warm call latency.
 * Run: npx tsx cloud/src/functions/bench.ts
 */
import { PoolRunner } from './pool-runner.ts';
import { FunctionService } from './service.ts';
import { KV_WAT, owner, unwrap, wat } from './test-support.ts';

const N = 300_000;
const alice = owner('alice');
// The bench calls with the private token far past its default rate (1000/s): measured here is the protocol.
const ownerRate = { perSecond: 1e9, burst: 1e9 };

async function inProcess(): Promise<void> {
  const svc = new FunctionService({ ownerRate });
  unwrap(svc.register(alice.token));
  const { hash } = unwrap(await svc.upload({ bytes: wat(KV_WAT), token: alice.token, namespace: 'home' }));
  unwrap(svc.setWhitelisted(alice.token, 'home', hash, true));
  const pub = alice.mint({ rate: { perSecond: 1_000_000, burst: 1_000_000 } }, Date.now());
  for (const [label, token, exp, args] of [
    ['private token, add(i32,i32)', alice.token, 'add', [1, 2]],
    ['public token, add(i32,i32)', pub, 'add', [1, 2]],
    ['public token, incr (state get+set, commit)', pub, 'incr', []],
  ] as const) {
    const req = { hash, export: exp, args, namespace: 'home', token };
    for (let i = 0; i < 20_000; i++) await svc.handleCall(req);
    const t0 = performance.now();
    for (let i = 0; i < N; i++) await svc.handleCall(req);
    const s = (performance.now() - t0) / 1000;
    console.log(`in-process  ${label.padEnd(44)} ${Math.round(N / s).toLocaleString('en')} calls/s (${((s / N) * 1e6).toFixed(2)} µs/call)`);
  }
}

async function pooled(): Promise<void> {
  // One owner here: its in-flight cap and CPU budget raised to the pool's size, to measure the pool itself.
  const pool = new PoolRunner({ size: 4, timeoutMs: 2000, fairness: { maxInFlight: 4, cpuMs: 1e9 } });
  const svc = new FunctionService({ runner: pool, ownerRate });
  unwrap(svc.register(alice.token));
  const { hash } = unwrap(await svc.upload({ bytes: wat(KV_WAT), token: alice.token, namespace: 'home' }));
  await pool.ready();
  const req = { hash, export: 'add', args: [1, 2], namespace: 'home', token: alice.token };
  for (let i = 0; i < 2000; i++) await svc.handleCall(req);
  const lat: number[] = [];
  for (let i = 0; i < 5000; i++) {
    const t = performance.now();
    await svc.handleCall(req);
    lat.push(performance.now() - t);
  }
  lat.sort((a, b) => a - b);
  const q = (p: number) => `${(lat[Math.floor(p * (lat.length - 1))]! * 1000).toFixed(0)} µs`;
  console.log(`pool(4)     warm sequential latency: p50 ${q(0.5)}, p99 ${q(0.99)}`);
  for (const spread of [1, 64]) {
    const M = 50_000;
    const t0 = performance.now();
    let inflight: Promise<unknown>[] = [];
    for (let i = 0; i < M; i++) {
      inflight.push(svc.handleCall({ ...req, namespace: `ns${i % spread}` }));
      if (inflight.length === 64) { await Promise.all(inflight); inflight = []; }
    }
    await Promise.all(inflight);
    console.log(`pool(4)     throughput, 64 in flight over ${spread} namespace(s): ${Math.round(M / ((performance.now() - t0) / 1000)).toLocaleString('en')} calls/s`);
  }
  await pool.close();
}

await inProcess();
await pooled();
