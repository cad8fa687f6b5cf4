/**
 * The dashboard in headless chromium (docs/operations.md, "Benchmark"), with its own widgets (uPlot through
 * timeChart, the SSE reader) on a page served like the dashboard (same CSS, same security headers):
 * - first render of a page of 8 charts x 10 000 points (goal <= 500 ms): the `bench:drawn` performance mark
 *   (after the frame is painted) from navigation start, and the part spent drawing (drawn - fetched); the
 *   baseline is the same page with no charts, loaded the same way;
 * - main-thread busy time (Chrome's TaskDuration) per second while 10 points/s stream into each chart, and
 *   the JS heap growth over that run (garbage collected at both ends); the baseline is the no-chart page
 *   receiving the same stream.
 * Usage: npm run bench:ops-dashboard [-- --seconds 60 --runs 5]; medians and p99; one JSON line at the end.
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { bundleEntry, readManifest } from '@ferry/dashboard/build';
import { PAGE_PATHS } from '@ferry/dashboard/page';
import { dashboard, SECURITY_HEADERS } from '@ferry/dashboard/serve';
import { browserSkip, context, launch, type Page } from '@ferry/test-kit/browser';
import { median } from './lib.ts';

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '60' }, runs: { type: 'string', default: '5' } } });
const SECONDS = Number(args.seconds);
const RUNS = Number(args.runs);
const CHARTS = 8;
const POINTS = 10_000;
const RATE_HZ = 10;
const say = (m: string): void => void process.stderr.write(`${m}\n`);
const p99 = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))] ?? Number.NaN;

const skip = browserSkip();
if (skip !== undefined) {
  say(`bench:ops-dashboard: ${skip}`);
  process.exit(1);
}

// The server: the dashboard plugin (assets, headers), the bench page, its data and a live stream at RATE_HZ.
const app = Fastify({ logger: false });
await app.register(dashboard, { kind: 'cloud', pages: PAGE_PATHS, loggedIn: () => true });
const css = readManifest()!.css;
const js = await bundleEntry(fileURLToPath(new URL('./ops-dashboard.page.ts', import.meta.url)));
const wave = (i: number, k: number): number => 20 + 5 * Math.sin(i / (50 + 10 * k)) + ((i * 7919 + k * 104_729) % 100) / 100;
app.get('/bench', async (_req, reply) =>
  reply
    .headers(SECURITY_HEADERS)
    .type('text/html')
    .send(
      `<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="/assets/${css}"></head><body><script type="module" src="/bench.js"></script></body></html>`,
    ),
);
app.get('/bench.js', async (_req, reply) => reply.headers(SECURITY_HEADERS).type('text/javascript').send(js));
app.get<{ Querystring: { points: string; charts: string } }>('/data', async (req) => {
  const n = Number(req.query.points);
  const t0 = Date.now() - n * 1000;
  return {
    t: Array.from({ length: n }, (_, i) => t0 + i * 1000),
    ys: Array.from({ length: Number(req.query.charts) }, (_, k) => Array.from({ length: n }, (_, i) => wave(i, k))),
  };
});
let seq = 0;
app.get('/live', async (req, reply) => {
  reply.hijack();
  reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const timer = setInterval(() => {
    seq++;
    reply.raw.write(`event: point\ndata: ${JSON.stringify({ t: Date.now(), v: Array.from({ length: CHARTS }, (_, k) => wave(seq, k)) })}\n\n`);
  }, 1000 / RATE_HZ);
  req.raw.on('close', () => clearInterval(timer));
});
const base = await app.listen({ host: '127.0.0.1', port: 0 });
const browser = await launch();

async function open(charts: number): Promise<{ page: Page; drawnMs: number; drawMs: number }> {
  const page = await (await context(browser)).newPage();
  await page.goto(`${base}/bench?charts=${charts}&points=${POINTS}`);
  // No named helpers inside these functions: tsx would wrap them in a helper (__name) the page does not have.
  await page.waitForFunction(() => (window as unknown as { bench?: { ready: boolean } }).bench?.ready === true, undefined, { timeout: 60_000 });
  const m = await page.evaluate(() => ({
    drawn: performance.getEntriesByName('bench:drawn')[0]!.startTime,
    fetched: performance.getEntriesByName('bench:fetched')[0]!.startTime,
  }));
  return { page, drawnMs: m.drawn, drawMs: m.drawn - m.fetched };
}

async function firstRender(charts: number): Promise<{ drawn: number[]; draw: number[] }> {
  const out = { drawn: [] as number[], draw: [] as number[] };
  for (let i = 0; i < RUNS; i++) {
    const r = await open(charts);
    out.drawn.push(r.drawnMs);
    out.draw.push(r.drawMs);
    await r.page.context().close();
  }
  return out;
}

/** Per-second main-thread busy ms while the stream runs, and the heap growth (after GC) over the run. */
async function streaming(charts: number): Promise<{ busyMsPerS: number[]; heapGrowthBytes: number; appended: number }> {
  const { page } = await open(charts);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const metric = async (name: string): Promise<number> =>
    ((await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] }).metrics.find((m) => m.name === name)!.value;
  const gcHeap = async (): Promise<number> => {
    await cdp.send('HeapProfiler.collectGarbage');
    return metric('JSHeapUsedSize');
  };
  const heap0 = await gcHeap();
  const busy: number[] = [];
  let task = await metric('TaskDuration');
  for (let s = 0; s < SECONDS; s++) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = await metric('TaskDuration');
    busy.push((now - task) * 1000);
    task = now;
  }
  const heap1 = await gcHeap();
  const appended = await page.evaluate(() => (window as unknown as { bench: { appended: number } }).bench.appended);
  await page.context().close();
  return { busyMsPerS: busy, heapGrowthBytes: heap1 - heap0, appended };
}

say(`first render: ${CHARTS} charts x ${POINTS} points, ${RUNS} loads each (and the no-chart baseline)`);
const base0 = await firstRender(0);
const full = await firstRender(CHARTS);
say(`streaming ${RATE_HZ} points/s into each chart for ${SECONDS} s (and the no-chart baseline)`);
const idle = await streaming(0);
const live = await streaming(CHARTS);
await browser.close();
await app.close();

const ms = (x: number): string => `${x.toFixed(0).padStart(6)} ms`;
console.log(`first render, no charts (baseline)           median ${ms(median(base0.drawn))}  p99 ${ms(p99(base0.drawn))}`);
console.log(
  `first render, ${CHARTS} x ${POINTS} points            median ${ms(median(full.drawn))}  p99 ${ms(p99(full.drawn))}  (drawing ${ms(median(full.draw))}; goal <= 500 ms)`,
);
console.log(`main thread busy per s, no charts (baseline)  median ${ms(median(idle.busyMsPerS))}  p99 ${ms(p99(idle.busyMsPerS))}`);
console.log(
  `main thread busy per s, ${CHARTS} live charts        median ${ms(median(live.busyMsPerS))}  p99 ${ms(p99(live.busyMsPerS))}  (${(median(live.busyMsPerS) / 10).toFixed(1)} % of a core)`,
);
console.log(
  `JS heap growth over ${SECONDS} s: ${(live.heapGrowthBytes / 1024).toFixed(0)} KiB with charts, ${(idle.heapGrowthBytes / 1024).toFixed(0)} KiB baseline; ${live.appended} points appended per chart`,
);
console.log(
  JSON.stringify({
    bench: 'ops-dashboard',
    charts: CHARTS,
    points: POINTS,
    rateHz: RATE_HZ,
    seconds: SECONDS,
    firstRenderMs: { median: median(full.drawn), p99: p99(full.drawn), drawingMedian: median(full.draw), baselineMedian: median(base0.drawn) },
    busyMsPerS: { median: median(live.busyMsPerS), p99: p99(live.busyMsPerS), baselineMedian: median(idle.busyMsPerS) },
    heapGrowthBytes: { charts: live.heapGrowthBytes, baseline: idle.heapGrowthBytes },
    appendedPerChart: live.appended,
  }),
);
process.exit(0);
