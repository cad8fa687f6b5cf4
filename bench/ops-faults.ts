/**
 * The fault rounds of bench:ops (docs/operations.md, "Benchmark"): for a killed rule job (a crash loop), a
 * broker outage, a silent device and a 5 s event-loop stall, the time from the fault to detected, to the alarm
 * raised, to its notification at a loopback webhook sink, and to recovered (/readyz 200 and the alarm
 * cleared). The fault is taken away as soon as its notification arrived (the bad input stops, the broker comes
 * back, the board speaks again; the stall ends by itself), so `recover` counts the outage too. Every wait has a
 * time limit. The parts are the fault tests' (e2e/ops-faults-parts.ts).
 */
import { aedesBroker } from '@ferry/test-kit/brokers';
import { alarmsOf, badInput, board, type FaultCloud, faultCloud, readyz, ruleJob, sinkKinds, stallEventLoop, subscribeSink } from '../e2e/ops-faults-parts.ts';
import { median } from './lib.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** performance.now() when `cond` first holds, polled every 10 ms; throws after `limitMs`. */
export async function when(cond: () => boolean | Promise<boolean>, what: string, limitMs = 60_000): Promise<number> {
  const end = performance.now() + limitMs;
  while (!(await cond())) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
  return performance.now();
}

export const p99 = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(0.99 * xs.length) - 1)]!;
export const stats = (xs: readonly number[]) => ({ median: Math.round(median(xs)), p99: Math.round(p99(xs)), runs: xs.map(Math.round) });

export interface FaultFigures {
  readonly detect: number[];
  readonly alarm: number[];
  readonly notify: number[];
  readonly recover: number[];
}

const LIMIT_MS = 45_000;

/** A fault's cloud and what its fault acts on. */
interface Ctx {
  readonly c: FaultCloud;
  /** The owner's credential for an owner's alarm (a device's); the admin credential otherwise. */
  readonly token?: string;
  readonly broker?: Awaited<ReturnType<typeof aedesBroker>>;
  readonly board?: Awaited<ReturnType<typeof board>>;
  readonly jobId?: string;
}

interface Fault {
  readonly name: string;
  readonly setup: (checkMs: number) => Promise<Ctx>;
  /** The alarm's type and source. */
  readonly alarm: (x: Ctx) => { type: string; source: string };
  /** Starts the fault; resolves when detected (performance.now()) with how to take it away. */
  readonly inject: (x: Ctx, wall0: number) => Promise<{ detectedAt: number; end: () => Promise<void> }>;
}

/** One round of a fault: the four figures, ms from the fault. */
async function round(f: Fault, x: Ctx, checkMs: number): Promise<[number, number, number, number]> {
  const { c, token } = x;
  const { type, source } = f.alarm(x);
  const heard = sinkKinds(c.sink).length;
  await when(async () => (await readyz(c.api)) === 200, 'ready', LIMIT_MS);
  await sleep(Math.random() * checkMs); // the fault lands anywhere in the check period
  const wall0 = Date.now();
  const t0 = performance.now();
  const newest = async () => (await alarmsOf(c, type, source, token)).find((a) => a.firstMs >= wall0);
  const { detectedAt, end } = await f.inject(x, wall0);
  let raisedMs = 0;
  await when(
    async () => {
      raisedMs = (await newest())?.firstMs ?? 0;
      return raisedMs > 0;
    },
    `${f.name}: the alarm`,
    LIMIT_MS,
  );
  const notifiedAt = await when(() => sinkKinds(c.sink).length > heard, `${f.name}: the notification`, LIMIT_MS);
  await end();
  const recoveredAt = await when(
    async () => (await readyz(c.api)) === 200 && (await newest())?.status === 'cleared',
    `${f.name}: ready and the alarm cleared`,
    LIMIT_MS,
  );
  await when(() => sinkKinds(c.sink).length >= heard + 2, `${f.name}: the clear notified`, LIMIT_MS);
  const kinds = sinkKinds(c.sink).slice(heard);
  if (kinds.join() !== 'alarm.raised,alarm.cleared') throw new Error(`${f.name}: notified ${kinds.join(', ')}, not one raise and its clear`);
  return [detectedAt - t0, raisedMs - wall0, notifiedAt - t0, recoveredAt - t0];
}

const failedSince = (x: Ctx, component: string, wall0: number): boolean =>
  x.c.svc.ops.incidents.list(5).some((i) => i.component === component && i.kind === 'failed' && i.at >= wall0);

const FAULTS: Fault[] = [
  {
    name: 'killed rule job',
    setup: async (checkMs) => {
      const c = await faultCloud(checkMs);
      return { c, jobId: ruleJob(c.svc) };
    },
    alarm: (x) => ({ type: 'component-failing', source: `component:rule:${x.jobId}` }),
    inject: async (x, wall0) => {
      const feed = badInput(x.c.svc, x.jobId!);
      const detectedAt = await when(() => failedSince(x, `rule:${x.jobId}`, wall0), 'the failure recorded', LIMIT_MS);
      return { detectedAt, end: async () => feed.stop() };
    },
  },
  {
    name: 'broker outage',
    setup: async (checkMs) => {
      const broker = await aedesBroker();
      return { c: await faultCloud(checkMs, { mqttUrl: broker.url }), broker };
    },
    alarm: () => ({ type: 'component-failing', source: 'component:mqtt' }),
    inject: async (x) => {
      await x.broker!.stop();
      const detectedAt = await when(async () => (await readyz(x.c.api)) === 503, '/readyz 503', LIMIT_MS);
      return { detectedAt, end: () => x.broker!.start() };
    },
  },
  {
    name: 'silent device',
    setup: async (checkMs) => {
      const c = await faultCloud(checkMs);
      const b = await board(c, 'alice', 'bench-board', 100);
      return { c, board: b, token: b.token };
    },
    alarm: () => ({ type: 'device-offline', source: 'bench-board' }),
    inject: async (x) => {
      const devices = () => x.c.svc.ops.devices('alice').filter((d) => d.id === 'bench-board');
      await when(() => devices().some((d) => d.online && d.intervalMs !== undefined), 'its interval learnt', LIMIT_MS);
      x.board!.stop();
      const detectedAt = await when(() => devices().some((d) => !d.online), 'offline', LIMIT_MS);
      return { detectedAt, end: async () => x.board!.resume() };
    },
  },
  {
    name: '5 s event-loop stall',
    setup: async (checkMs) => ({ c: await faultCloud(checkMs) }),
    alarm: () => ({ type: 'component-failing', source: 'component:eventloop' }),
    inject: async (x, wall0) => {
      stallEventLoop(5000);
      // Detected by the cloud's own sampler once its loop runs again: the incident's time is the figure.
      await when(() => failedSince(x, 'eventloop', wall0), 'the stall recorded', LIMIT_MS);
      const at = x.c.svc.ops.incidents.list(5).find((i) => i.component === 'eventloop' && i.kind === 'failed')!.at;
      return { detectedAt: performance.now() - (Date.now() - at), end: async () => undefined };
    },
  },
];

/** Every fault `runs` times on one cloud each; the subscriptions made once per cloud. */
export async function faultRounds(checkMs: number, runs: number, say: (m: string) => void): Promise<Record<string, FaultFigures>> {
  const out: Record<string, FaultFigures> = {};
  for (const f of FAULTS) {
    say(f.name);
    const x = await f.setup(checkMs);
    try {
      const { type, source } = f.alarm(x);
      await subscribeSink(x.c, `${type}/${source}`, x.token);
      const figures: FaultFigures = { detect: [], alarm: [], notify: [], recover: [] };
      for (let run = 0; run < runs; run++) {
        const [d, a, n, r] = await round(f, x, checkMs);
        figures.detect.push(d);
        figures.alarm.push(a);
        figures.notify.push(n);
        figures.recover.push(r);
        say(`  run ${run + 1}: detected ${d.toFixed(0)} ms, alarm ${a.toFixed(0)} ms, notified ${n.toFixed(0)} ms, recovered ${r.toFixed(0)} ms`);
      }
      out[f.name] = figures;
    } finally {
      await x.c.stop();
      await x.board?.close();
      await x.broker?.stop();
    }
  }
  return out;
}
