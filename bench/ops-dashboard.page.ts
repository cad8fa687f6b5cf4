/**
 * The benchmark's browser page (bundled by bench/ops-dashboard.ts): `?charts=N&points=P` charts drawn with the
 * dashboard's own timeChart widget from one JSON answer, as the streams page does with the series API, then
 * fed live through the dashboard's SSE reader. Performance marks: bench:start, bench:fetched, bench:drawn
 * (after the next frame was painted).
 */
import { timeChart, type TimeChart } from '@ferry/dashboard/chart';
import { openLive } from '@ferry/dashboard/live';

const q = new URLSearchParams(location.search);
const charts = Number(q.get('charts') ?? 8);
const points = Number(q.get('points') ?? 10_000);
const state = window as unknown as { bench?: { ready: boolean; appended: number } };
state.bench = { ready: false, appended: 0 };

async function main(): Promise<void> {
  performance.mark('bench:start');
  const data = (await (await fetch(`/data?points=${points}&charts=${charts}`)).json()) as { t: number[]; ys: number[][] };
  performance.mark('bench:fetched');
  const root = document.createElement('div');
  root.className = 'charts';
  document.body.append(root);
  const drawn: TimeChart[] = [];
  for (let i = 0; i < charts; i++) {
    const box = document.createElement('div');
    root.append(box);
    const c = timeChart(box, { title: `field ${i}`, series: [`f${i}`], maxPoints: points });
    c.setData(data.t, [data.ys[i]!]);
    drawn.push(c);
  }
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  performance.mark('bench:drawn');
  state.bench!.ready = true;
  openLive('/live', (d, event) => {
    if (event !== 'point') return;
    const p = d as { t: number; v: number[] };
    for (let i = 0; i < drawn.length; i++) drawn[i]!.append(p.t, [p.v[i] ?? null]);
    state.bench!.appended++;
  });
}
void main();
