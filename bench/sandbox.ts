/**
 * @module bench:sandbox — what one owner's hostile functions cost another owner. Owner B makes its
 * reference call (`add` with a public token, through the whole protocol into the process pool the cloud
 * service uses: 2 workers, 1 s deadline, default fairness) one call after another, first with the pool
 * quiet, then while owner A keeps four attack calls in flight: a module whose instantiation exhausts its
 * worker's heap (accepted by a registry with raised table caps: the upload checks refuse it otherwise), a
 * stack bomb, a memory bomb within its declared pages, endless loops. A is a fresh owner in each phase, so
 * every attack starts with a full CPU budget. Prints B's p50/p99 and its longest wait per phase (medians
 * of the runs, phases interleaved run by run) and the ratios to the quiet run; ends with one JSON line.
 */
import { FunctionService, MemoryNamespaceStore, ModuleRegistry, PoolRunner, generatePrivateToken, mintPublicToken } from '../cloud/src/functions/index.ts';
import { HOSTILE_PAGES, HOSTILE_WAT, TABLE_BOMB_LIMITS, TABLE_BOMB_WAT } from '@ferry/test-kit/hostile-modules';
import { KV_WAT } from '@ferry/test-kit/functions';
import { wat } from '@ferry/test-kit/wat';
import { median, progress } from './lib.ts';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const PHASE_MS = Number(process.env['BENCH_PHASE_MS'] ?? 3000);
const ATTACKERS = 4;

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};
const unwrap = <T>(r: { ok: true; value: T } | { ok: false; error: Error }): T => {
  if (!r.ok) throw r.error;
  return r.value;
};
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

const pool = new PoolRunner({ size: 2, timeoutMs: 1000 });
const svc = new FunctionService({
  runner: pool,
  registry: new ModuleRegistry({ limits: TABLE_BOMB_LIMITS }),
  namespaces: new MemoryNamespaceStore({ defaultQuota: { maxKeys: 1024, maxPages: HOSTILE_PAGES } }),
});
const bPriv = generatePrivateToken('bystander');
unwrap(svc.register(bPriv));
const kv = unwrap(await svc.upload({ bytes: wat(KV_WAT), token: bPriv, namespace: 'home' })).hash;
unwrap(svc.setWhitelisted(bPriv, 'home', kv, true));
const bPub = unwrap(mintPublicToken(bPriv, { subject: 'b-dev', ttlS: 86_400, namespaces: ['home'], rate: { perSecond: 1e6, burst: 1e6 } }, Date.now()));
const reference = { hash: kv, export: 'add', args: [2, 3], namespace: 'home', token: bPub };
await pool.ready();
for (let i = 0; i < 2000; i++) unwrap(await svc.handleCall(reference));

interface Attack {
  readonly name: string;
  readonly wat: string;
  readonly exp: string;
  readonly args: number[];
}
const ATTACKS: readonly Attack[] = [
  { name: 'crash (heap-exhausting module)', wat: TABLE_BOMB_WAT, exp: 'run', args: [] },
  { name: 'stack bomb', wat: HOSTILE_WAT, exp: 'recurse', args: [0] },
  { name: 'memory bomb', wat: HOSTILE_WAT, exp: 'grow', args: [] },
  { name: 'endless loops', wat: HOSTILE_WAT, exp: 'spin', args: [] },
];

let attackers = 0;
/** A fresh owner A with the attack uploaded; returns how to make one attack call in namespace `ns`. */
async function attacker(a: Attack): Promise<(ns: string) => Promise<string>> {
  const priv = generatePrivateToken(`attacker-${++attackers}`);
  unwrap(svc.register(priv));
  const hash = unwrap(await svc.upload({ bytes: wat(a.wat), token: priv, namespace: 'home' })).hash;
  return async (ns) => {
    const r = await svc.handleCall({ hash, export: a.exp, args: a.args, namespace: ns, token: priv });
    return r.ok ? 'ok' : r.error.code;
  };
}

/** B's latencies for PHASE_MS, while `attack` (if any) keeps ATTACKERS calls in flight. */
async function phase(a: Attack | undefined): Promise<{ lat: number[]; bErrors: number; aCodes: Record<string, number> }> {
  const aCodes: Record<string, number> = {};
  let stop = false;
  const loops: Promise<void>[] = [];
  if (a !== undefined) {
    const call = await attacker(a);
    for (let i = 0; i < ATTACKERS; i++) {
      loops.push(
        (async () => {
          while (!stop) {
            const code = await call(`a${i}`);
            aCodes[code] = (aCodes[code] ?? 0) + 1;
            await turn(); // a refused call comes back at once: let requests arrive as they would, one turn at a time
          }
        })(),
      );
    }
  }
  const lat: number[] = [];
  let bErrors = 0;
  for (const end = performance.now() + PHASE_MS; performance.now() < end; ) {
    const t0 = performance.now();
    const r = await svc.handleCall(reference);
    lat.push(performance.now() - t0);
    if (!r.ok) bErrors++;
  }
  stop = true;
  await Promise.all(loops);
  await pool.ready(); // replacements booted before the next phase
  return { lat, bErrors, aCodes };
}

const phases: readonly (Attack | undefined)[] = [undefined, ...ATTACKS];
const names = phases.map((a) => a?.name ?? 'quiet');
const p50s = phases.map(() => [] as number[]);
const p99s = phases.map(() => [] as number[]);
const maxes = phases.map(() => [] as number[]);
const calls = phases.map(() => 0);
const bErrors = phases.map(() => 0);
const aCodes = phases.map(() => ({}) as Record<string, number>);
const restartsBefore = pool.restarts;
const bar = progress(RUNS * phases.length, 'bench:sandbox');
for (let r = 0; r < RUNS; r++) {
  for (const [k, a] of phases.entries()) {
    const res = await phase(a);
    p50s[k]!.push(quantile(res.lat, 0.5));
    p99s[k]!.push(quantile(res.lat, 0.99));
    maxes[k]!.push(Math.max(...res.lat));
    calls[k]! += res.lat.length;
    bErrors[k]! += res.bErrors;
    for (const [c, n] of Object.entries(res.aCodes)) aCodes[k]![c] = (aCodes[k]![c] ?? 0) + n;
    bar.increment();
  }
}
bar.stop();
const restarts = pool.restarts - restartsBefore;
await pool.close();

const ms = (x: number): string => `${x.toFixed(3)} ms`;
const q50 = median(p50s[0]!);
const q99 = median(p99s[0]!);
console.log(`owner B's reference call (add, public token, whole protocol, in process) over ${PHASE_MS} ms per phase, medians of ${RUNS} runs;`);
console.log(
  `pool: 2 worker processes, 1 s deadline, default fairness (2 in flight per owner, 3000 ms CPU per 10 s); A keeps ${ATTACKERS} attack calls in flight`,
);
const rows = names.map((name, k) => {
  const p50 = median(p50s[k]!);
  const p99 = median(p99s[k]!);
  const max = median(maxes[k]!);
  const attack = Object.entries(aCodes[k]!)
    .map(([c, n]) => `${c.replace('FERRY_FN_', '')} ${n}`)
    .join(', ');
  console.log(
    `  ${name.padEnd(32)} p50 ${ms(p50)} (x${(p50 / q50).toFixed(2)})  p99 ${ms(p99)} (x${(p99 / q99).toFixed(2)})  max ${ms(max)}  B calls ${calls[k]} (errors ${bErrors[k]})${attack === '' ? '' : `  A: ${attack}`}`,
  );
  return {
    phase: name,
    p50_ms: Number(p50.toFixed(3)),
    p99_ms: Number(p99.toFixed(3)),
    p50_ratio: Number((p50 / q50).toFixed(2)),
    p99_ratio: Number((p99 / q99).toFixed(2)),
    max_ms: Number(max.toFixed(3)),
    b_calls: calls[k],
    b_errors: bErrors[k],
    a_results: aCodes[k],
  };
});
console.log(`  workers replaced: ${restarts}`);
console.log(JSON.stringify({ bench: 'sandbox', runs: RUNS, phase_ms: PHASE_MS, attackers: ATTACKERS, workers_replaced: restarts, phases: rows }));
