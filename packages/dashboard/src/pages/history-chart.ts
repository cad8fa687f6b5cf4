/**
 * @module A chart of one health-history series (docs/operations.md, "Health history"), the cloud's /health page's
 * and the gateway's /status page's: the whole range loaded once (downsampled on the server), then on each refresh
 * only the points newer than its last one, appended. The box carries `data-points`, the points drawn, for
 * tests (and a curious operator).
 */
import type { PageContext } from '../page.ts';
import { timeChart } from '../widgets/chart.ts';
import { el } from '../widgets/dom.ts';

/** GET /api/v1/health/history?series=... */
export interface History {
  readonly series: string;
  readonly step: number;
  readonly points: [number, number | null][];
}

/** Points asked for a whole range: the server downsamples to at most this many. */
const POINTS = 500;
/** Points a chart keeps while it appends (the oldest drop off). */
const MAX_POINTS = 5000;

/** The points of `h` strictly after `afterMs` (a refresh asks from the last point on, which it already has). */
export const newPoints = (h: History, afterMs: number): [number, number | null][] => h.points.filter(([t]) => t > afterMs);

export interface HistoryChart {
  readonly series: string;
  /** Loads the last `rangeMs` (`full`, or the first time), or only what is newer than the last point. */
  load(rangeMs: number, full: boolean): Promise<void>;
  /** Says why the series could not be loaded, under the chart. */
  fail(e: unknown): void;
  destroy(): void;
}

/** A chart of `series` in a box of `parent` (test id `testId`). */
export function historyChart(
  parent: HTMLElement,
  ctx: PageContext,
  c: { readonly series: string; readonly title: string; readonly testId: string },
): HistoryChart {
  const box = el('div');
  box.dataset['testid'] = c.testId;
  parent.append(box);
  const chart = timeChart(box, { title: c.title, series: [c.series], maxPoints: MAX_POINTS });
  const note = el('p', 'muted');
  box.append(note);
  let lastMs = 0;
  let count = 0;
  let step = 0;
  return {
    series: c.series,
    async load(rangeMs, full) {
      const to = Date.now();
      const whole = full || lastMs === 0;
      const from = whole ? to - rangeMs : lastMs;
      // An update keeps the whole range's step, so the appended points are means over buckets of the same width.
      const n = whole || step <= 0 ? POINTS : Math.min(POINTS, Math.max(1, Math.ceil((to - from) / step)));
      const q = new URLSearchParams({ series: c.series, from: String(from), to: String(to), points: String(n) });
      const h = await ctx.api<History>(`/api/v1/health/history?${q}`);
      if (whole) {
        step = h.step;
        chart.setData(
          h.points.map(([t]) => t),
          [h.points.map(([, v]) => v)],
        );
        count = h.points.length;
      } else {
        const fresh = newPoints(h, lastMs);
        for (const [t, v] of fresh) chart.append(t, [v]);
        count = Math.min(MAX_POINTS, count + fresh.length);
      }
      lastMs = h.points.at(-1)?.[0] ?? lastMs;
      note.textContent = count === 0 ? `No ${c.series} points yet.` : '';
      box.dataset['points'] = String(count);
    },
    fail(e) {
      note.textContent = `No history for ${c.series}: ${e instanceof Error ? e.message : String(e)}`;
    },
    destroy() {
      chart.destroy();
    },
  };
}
