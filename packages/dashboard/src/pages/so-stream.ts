/**
 * @module A composite stream on the streams page (/streams?so=&stream=; docs/operations.md "Dashboard"): one
 * chart per numeric channel, the stream's stored values first (GET /api/v1/sos/{so}/streams/{stream}, the
 * newest 1000), then each new value as it is stored (server-sent events of /api/v1/sos/{so}/streams/{stream}/events).
 * X is the value's lastUpdate.
 */
import type { PageContext } from '../page.ts';
import { numericFields } from '../fields.ts';
import { timeChart, type TimeChart } from '../widgets/chart.ts';
import { el } from '../widgets/dom.ts';

type StreamValue = { channels: Record<string, unknown>; lastUpdate: number };
const MAX_POINTS = 5000;

/** Draws `so`'s stream `stream` into `root`; returns what stops it. */
export function renderSoStream(root: HTMLElement, ctx: PageContext, so: string, stream: string): () => void {
  const status = el('span', 'muted');
  status.dataset['testid'] = 'streams-status';
  const charts = el('div', 'charts');
  root.replaceChildren(el('h2', undefined, `Composite stream ${so} / ${stream}`), el('div', 'toolbar'), charts);
  root.querySelector('.toolbar')?.append(status);
  const shown = new Map<string, { chart: TimeChart; box: HTMLElement; points: number }>();
  const plot = (v: StreamValue): void => {
    for (const [channel, y] of numericFields(v.channels)) {
      let c = shown.get(channel);
      if (c === undefined) {
        const box = el('div');
        box.dataset['testid'] = `chart-${channel}`;
        charts.append(box);
        c = { chart: timeChart(box, { title: channel, series: [channel], maxPoints: MAX_POINTS }), box, points: 0 };
        shown.set(channel, c);
      }
      c.chart.append(v.lastUpdate, [y]);
      c.points = Math.min(MAX_POINTS, c.points + 1);
      c.box.dataset['points'] = String(c.points);
    }
  };
  const path = `/api/v1/sos/${encodeURIComponent(so)}/streams/${encodeURIComponent(stream)}`;
  let close: (() => void) | undefined;
  let closed = false;
  ctx
    .api<{ data: StreamValue[] }>(`${path}?limit=1000`)
    .then((h) => {
      if (closed) return;
      for (const v of [...h.data].sort((a, b) => a.lastUpdate - b.lastUpdate)) plot(v);
      status.textContent = h.data.length === 0 ? 'No values yet; waiting for live ones.' : 'Live.';
      close = ctx.live(`${path}/events`, (data, event) => {
        if (event === 'value') plot(data as StreamValue);
        else if (event === 'end') status.textContent = 'The stream ended (access changed or the object went away).';
      });
    })
    .catch((e: unknown) => {
      status.textContent = e instanceof Error ? e.message : String(e);
    });
  return () => {
    closed = true;
    close?.();
    for (const c of shown.values()) c.chart.destroy();
  };
}
