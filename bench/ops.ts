/**
 * Fault to detected and fault to recovered (`/readyz` 200 again) for three faults, on real parts
 * (docs/operations.md, "Benchmark"):
 * - a killed rule job (an error streak stops it): detected when the supervisor records it, recovered when the
 *   restarted job makes /readyz green;
 * - a broker outage (an external aedes broker stopped, then started again): detected when /readyz turns 503,
 *   recovered when it is 200 after the broker is back (measured from the broker's return);
 * - a 5 s event-loop stall (`ferry cloud start` in a child process frozen with SIGSTOP, as a hung loop looks
 *   from outside): detected by a readiness probe with a 1 s timeout and by the systemd watchdog protocol
 *   (no WATCHDOG=1 for WatchdogSec, received on a unix datagram socket python3 binds); recovered when /readyz
 *   answers 200 after SIGCONT.
 * Then, for four faults (a rule job in a crash loop, a broker outage, a silent device, a 5 s stall), fault to
 * detected, to the alarm, to its notification at a loopback webhook sink and to recovered (ops-faults.ts,
 * OPS_FAULT_RUNS runs, default 3), and the health store's size after a simulated week of checks every
 * OPS_HISTORY_CHECK_MS (default 1000, the cloud's default; ops-history.ts).
 * The baseline is the configured check period (OPS_CHECK_MS, default 500 ms): the figures are printed as
 * multiples of it. Medians and p99 over OPS_RUNS runs (default 5; 3 for the stall); one JSON line at the end.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CloudService } from '@ferry/cloud';
import { aedesBroker } from '@ferry/test-kit/brokers';
import { ADMIN_TOKEN } from '@ferry/test-kit/http';
import { freePort } from '@ferry/test-kit/ports';
import { median } from './lib.ts';
import { readyz } from '../e2e/ops-faults-parts.ts';
import { faultRounds, p99, stats, when } from './ops-faults.ts';
import { simulatedWeek } from './ops-history.ts';

const CHECK_MS = Number(process.env['OPS_CHECK_MS'] ?? 500);
const RUNS = Number(process.env['OPS_RUNS'] ?? 5);
const STALL_MS = 5000;
const WATCHDOG_MS = 2000;
/** The readiness probe's timeout (the parts' readyz waits this long). */
const PROBE_TIMEOUT_MS = 1000;
const FAULT_RUNS = Number(process.env['OPS_FAULT_RUNS'] ?? 3);
const HISTORY_CHECK_MS = Number(process.env['OPS_HISTORY_CHECK_MS'] ?? 1000);
const say = (m: string): void => {
  process.stderr.write(`${m}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function cloud(extra: Partial<ConstructorParameters<typeof CloudService>[0]> = {}): CloudService {
  return new CloudService({
    adminToken: ADMIN_TOKEN,
    dataDir: mkdtempSync(join(tmpdir(), 'ferry-bench-ops-')),
    mqttPort: 0,
    httpPort: 0,
    functionRunner: 'in-process',
    log: () => undefined,
    health: { checkPeriodMs: CHECK_MS },
    ...extra,
  });
}

async function killedRuleJob(): Promise<{ detect: number[]; recover: number[] }> {
  const svc = cloud();
  const { httpUrl } = await svc.start();
  const detect: number[] = [];
  const recover: number[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const { jobId } = svc.rules.engine.install({
        headers: { runtime: 'cloud', targetResource: 'bench', jobType: 'single-filter' },
        jobConfig: { connectors: { input: 'bench/+', output: 'bench-out' }, jobProps: { condition: 'gt', threshold: 1, fieldName: 'temp' } },
      });
      svc.rules.engine.start(jobId);
      await when(async () => (await readyz(httpUrl)) === 200, 'ready');
      await sleep(Math.random() * CHECK_MS); // the fault lands anywhere in the check period
      const t0 = performance.now();
      const wall0 = Date.now();
      for (let i = 0; svc.rules.engine.status(jobId).failure === null && i < 10_000; i++) svc.rules.input('bench/a', { other: 1 }, Date.now());
      const failedAt = await when(
        () => svc.ops.incidents.list(5).some((i) => i.component === `rule:${jobId}` && i.kind === 'failed' && i.at >= wall0),
        'the failure recorded',
      );
      const readyAt = await when(async () => (await readyz(httpUrl)) === 200 && svc.rules.engine.status(jobId).failure === null, 'ready again');
      detect.push(failedAt - t0);
      recover.push(readyAt - t0);
      svc.rules.engine.stop(jobId);
      svc.rules.engine.uninstall(jobId);
      say(`  killed rule job, run ${run + 1}: detected ${(failedAt - t0).toFixed(0)} ms, recovered ${(readyAt - t0).toFixed(0)} ms`);
    }
  } finally {
    await svc.stop();
  }
  return { detect, recover };
}

async function brokerOutage(): Promise<{ detect: number[]; recover: number[] }> {
  const broker = await aedesBroker();
  const svc = cloud({ mqttUrl: broker.url });
  const { httpUrl } = await svc.start();
  const detect: number[] = [];
  const recover: number[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      await when(async () => (await readyz(httpUrl)) === 200, 'ready');
      await sleep(Math.random() * CHECK_MS);
      const t0 = performance.now();
      await broker.stop();
      const downAt = await when(async () => (await readyz(httpUrl)) === 503, '503');
      await sleep(1000); // an outage of a second
      const t1 = performance.now();
      await broker.start();
      const upAt = await when(async () => (await readyz(httpUrl)) === 200, 'ready again');
      detect.push(downAt - t0);
      recover.push(upAt - t1);
      say(`  broker outage, run ${run + 1}: detected ${(downAt - t0).toFixed(0)} ms, ready ${(upAt - t1).toFixed(0)} ms after the broker returned`);
    }
  } finally {
    await svc.stop();
    await broker.stop();
  }
  return { detect, recover };
}

/** Binds a unix datagram socket (as systemd's notify socket) and reports each datagram with its arrival time. */
async function notifySocket(path: string): Promise<{ proc: ChildProcess; lastPing: () => number; seen: (s: string) => boolean }> {
  const code =
    'import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint("bound",flush=True)\nwhile True: print(s.recv(4096).decode(),flush=True)\n';
  const proc = spawn('python3', ['-c', code, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  let last = 0;
  const got = new Set<string>();
  await new Promise<void>((resolve, reject) => {
    proc.once('error', reject);
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      if (l === 'bound') resolve();
      got.add(l);
      if (l === 'WATCHDOG=1') last = performance.now();
    });
  });
  return { proc, lastPing: () => last, seen: (s) => got.has(s) };
}

async function eventLoopStall(): Promise<{ probeDetect: number[]; watchdogDetect: number[]; recover: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-stall-'));
  const sock = await notifySocket(join(dir, 'notify.sock'));
  const httpPort = await freePort();
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const bin = fileURLToPath(new URL('../cli/bin/ferry.mjs', import.meta.url));
  const child = spawn(
    process.execPath,
    [bin, 'cloud', 'start', '--data', join(dir, 'data'), '--mqtt-port', '0', '--http-port', String(httpPort), '--check-period', String(CHECK_MS)],
    { env: { ...process.env, NOTIFY_SOCKET: join(dir, 'notify.sock'), WATCHDOG_USEC: String(WATCHDOG_MS * 1000) }, stdio: 'ignore' },
  );
  const probeDetect: number[] = [];
  const watchdogDetect: number[] = [];
  const recover: number[] = [];
  try {
    await when(() => sock.seen('READY=1'), 'READY=1', 120_000);
    const runs = Math.max(1, Math.min(RUNS, 3));
    for (let run = 0; run < runs; run++) {
      await when(async () => (await readyz(httpUrl)) === 200, 'ready');
      const since = performance.now();
      await when(() => sock.lastPing() > since, 'a watchdog ping'); // pinging, as systemd would see it
      await sleep(Math.random() * CHECK_MS);
      const t0 = performance.now();
      child.kill('SIGSTOP');
      const cont = setTimeout(() => child.kill('SIGCONT'), STALL_MS);
      // systemd's view: the watchdog fires WatchdogSec after the last ping; a probe's: no answer in its timeout.
      const [watchdogAt, probeAt] = await Promise.all([
        when(() => performance.now() - sock.lastPing() > WATCHDOG_MS, 'the watchdog to expire'),
        when(async () => (await readyz(httpUrl)) !== 200, 'a failed probe'),
      ]);
      await when(() => performance.now() - t0 >= STALL_MS, 'the end of the stall');
      clearTimeout(cont);
      child.kill('SIGCONT');
      const readyAt = await when(async () => (await readyz(httpUrl)) === 200, 'ready again');
      probeDetect.push(probeAt - t0);
      watchdogDetect.push(watchdogAt - t0);
      recover.push(readyAt - t0);
      say(
        `  ${STALL_MS / 1000} s stall, run ${run + 1}: probe failed at ${(probeAt - t0).toFixed(0)} ms, watchdog expired at ${(watchdogAt - t0).toFixed(0)} ms, ready at ${(readyAt - t0).toFixed(0)} ms`,
      );
    }
  } finally {
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    sock.proc.kill();
  }
  return { probeDetect, watchdogDetect, recover };
}

say(`ops bench: check period ${CHECK_MS} ms (the baseline), ${RUNS} runs`);
say('killed rule job');
const rule = await killedRuleJob();
say('broker outage (external aedes)');
const broker = await brokerOutage();
say(`event-loop stall (${STALL_MS / 1000} s, WatchdogSec ${WATCHDOG_MS / 1000} s, probe timeout ${PROBE_TIMEOUT_MS / 1000} s)`);
const stall = await eventLoopStall();
say(`faults with their alarm and its notification at a loopback webhook sink (${FAULT_RUNS} runs each)`);
const faults = await faultRounds(CHECK_MS, FAULT_RUNS, say);
say(`health store: a simulated week of checks every ${HISTORY_CHECK_MS} ms`);
const week = simulatedWeek(HISTORY_CHECK_MS);

const row = (name: string, xs: readonly number[]): string =>
  `${name.padEnd(44)} median ${median(xs).toFixed(0).padStart(6)} ms  p99 ${p99(xs).toFixed(0).padStart(6)} ms  ${(median(xs) / CHECK_MS).toFixed(2)}x check period`;
console.log(row('killed rule job: fault -> detected', rule.detect));
console.log(row('killed rule job: fault -> /readyz 200', rule.recover));
console.log(row('broker outage: fault -> /readyz 503', broker.detect));
console.log(row('broker outage: broker back -> /readyz 200', broker.recover));
console.log(row('stall: fault -> probe fails (1 s timeout)', stall.probeDetect));
console.log(row(`stall: fault -> watchdog expires (${WATCHDOG_MS / 1000} s)`, stall.watchdogDetect));
console.log(row(`stall: fault -> /readyz 200 (${STALL_MS / 1000} s stall)`, stall.recover));
const GOALS = { detect: 10_000, notify: 15_000, recover: 30_000 } as const;
const med = (xs: readonly number[]): string => `${median(xs).toFixed(0).padStart(6)} ms`;
for (const [name, f] of Object.entries(faults)) {
  const verdict =
    median(f.detect) <= GOALS.detect && median(f.notify) <= GOALS.notify && median(f.recover) <= GOALS.recover ? 'within the goals' : 'OVER a goal';
  console.log(`${`${name}:`.padEnd(24)} detect ${med(f.detect)}  alarm ${med(f.alarm)}  notify ${med(f.notify)}  recover ${med(f.recover)}  (${verdict})`);
}
console.log('goals: detect <= 10 s, notify <= 15 s, recover <= 30 s (medians, ms from the fault; recover counts the outage, ended once notified)');
const mb = (b: number): string => (b / 1024 / 1024).toFixed(1);
const weekBytes = week.bytesByDay.at(-1)!;
console.log(
  `health store size after a simulated week: ${mb(weekBytes)} MB (check period ${week.checkPeriodMs} ms, ${week.series} series, ${week.samples} samples; after day 1 ${mb(week.bytesByDay[0]!)} MB; goal < 50 MB; simulated in ${week.seconds.toFixed(1)} s)`,
);
console.log(
  JSON.stringify({
    bench: 'ops',
    faults: Object.fromEntries(
      Object.entries(faults).map(([name, f]) => [
        name,
        { detectMs: stats(f.detect), alarmMs: stats(f.alarm), notifyMs: stats(f.notify), recoverMs: stats(f.recover) },
      ]),
    ),
    healthStore: {
      checkPeriodMs: week.checkPeriodMs,
      series: week.series,
      samples: week.samples,
      bytes: weekBytes,
      bytesByDay: week.bytesByDay,
      goalBytes: 50 * 1024 * 1024,
    },
    checkPeriodMs: CHECK_MS,
    killedRuleJob: { detectMs: stats(rule.detect), recoverMs: stats(rule.recover) },
    brokerOutage: { detectMs: stats(broker.detect), recoverAfterBrokerBackMs: stats(broker.recover) },
    eventLoopStall: {
      stallMs: STALL_MS,
      watchdogMs: WATCHDOG_MS,
      probeDetectMs: stats(stall.probeDetect),
      watchdogDetectMs: stats(stall.watchdogDetect),
      recoverMs: stats(stall.recover),
    },
  }),
);
process.exit(0);
