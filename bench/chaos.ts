/**
 * bench:chaos — how a running cloud and gateway answer while they are attacked. For each attack of
 * chaos/attacks.ts: the reference call (a device message acknowledged after ingest, then GET /api/devices) is
 * made over and over while the attack runs, and its p50/p99 compared with the same call on the quiet system,
 * measured in the same run. Prints a table; the last line is one JSON object.
 */
import { ATTACKS } from '../chaos/attacks.ts';
import { percentile, startSystem } from '../chaos/system.ts';
import { median } from './lib.ts';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const CALLS = 40;

/** Reference calls, one after the other, until `until` settles and at least CALLS were made. */
async function referenceCalls(call: () => Promise<number>, until?: Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  let done = until === undefined;
  until?.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  while (out.length < CALLS || !done) out.push(await call());
  return out;
}

const sys = await startSystem({ deviceRate: { perSecond: 1000, burst: 200 } });
const rows: { attack: string; p50: number; p99: number; p50Ratio: number; p99Ratio: number; problem?: string }[] = [];
try {
  const quiet50: number[] = [];
  const quiet99: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const q = await referenceCalls(() => sys.reference());
    quiet50.push(percentile(q, 50));
    quiet99.push(percentile(q, 99));
  }
  const q50 = median(quiet50);
  const q99 = median(quiet99);
  rows.push({ attack: 'quiet (baseline)', p50: q50, p99: q99, p50Ratio: 1, p99Ratio: 1 });
  for (const attack of ATTACKS) {
    const p50s: number[] = [];
    const p99s: number[] = [];
    let problem: string | undefined;
    for (let r = 0; r < RUNS; r++) {
      process.stderr.write(`${attack.name} (run ${r + 1}/${RUNS})\n`);
      const running = attack.run(sys);
      const lat = await referenceCalls(() => sys.reference(), running);
      problem ??= await running;
      p50s.push(percentile(lat, 50));
      p99s.push(percentile(lat, 99));
    }
    const p50 = median(p50s);
    const p99 = median(p99s);
    rows.push({ attack: attack.name, p50, p99, p50Ratio: p50 / q50, p99Ratio: p99 / q99, ...(problem !== undefined && { problem }) });
  }
} finally {
  await sys.stop();
}

const pad = (s: string, n: number): string => s.padEnd(n);
console.log(`reference call (QoS 1 device message + GET /api/devices), median of ${RUNS} runs of >= ${CALLS} calls`);
console.log(`${pad('during', 70)} ${pad('p50 ms', 9)} ${pad('p99 ms', 9)} ${pad('p50 ×', 7)} p99 ×`);
for (const r of rows)
  console.log(
    `${pad(r.attack, 70)} ${pad(r.p50.toFixed(2), 9)} ${pad(r.p99.toFixed(2), 9)} ${pad(r.p50Ratio.toFixed(2), 7)} ${r.p99Ratio.toFixed(2)}${r.problem === undefined ? '' : `  PROBLEM: ${r.problem}`}`,
  );
console.log(JSON.stringify({ bench: 'chaos', runs: RUNS, rows }));
