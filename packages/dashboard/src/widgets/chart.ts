/**
 * @module A time chart: uPlot (made for time series at volume) with live append. Points past `maxPoints` drop
 * off the left, so a chart left open for hours keeps a bounded memory. Live appends are drawn together, at
 * most every `redrawMs` (a redraw walks every kept point: 8 charts of 10 000 points redrawn at each of 10
 * points per second would keep a core busy; bench/ops-dashboard.ts measures it). X values are wall-clock ms.
 */
import uPlot from 'uplot';

export interface TimeChartOptions {
  readonly title: string;
  readonly series: string[];
  /** Points kept (the oldest drop off); default 10 000. */
  readonly maxPoints?: number;
  /** Plot height in CSS pixels; default 220. */
  readonly height?: number;
  /** Live appends are drawn at most this often (ms); default 250. */
  readonly redrawMs?: number;
}

export interface TimeChart {
  setData(xsMs: number[], ys: (number | null)[][]): void;
  append(xMs: number, ys: (number | null)[]): void;
  destroy(): void;
}

const COLOURS = ['#3b82f6', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6', '#06b6d4', '#ec4899', '#84cc16'];

export function timeChart(el: HTMLElement, opts: TimeChartOptions): TimeChart {
  const max = Math.max(2, opts.maxPoints ?? 10_000);
  let xs: number[] = [];
  let ys: (number | null)[][] = opts.series.map(() => []);
  const box = document.createElement('div');
  box.className = 'chart';
  el.append(box);
  const width = (): number => Math.max(200, Math.floor(box.clientWidth || el.clientWidth || 600));
  const plot = new uPlot(
    {
      title: opts.title,
      width: width(),
      height: opts.height ?? 220,
      // Timestamps are milliseconds (uPlot's default is seconds).
      ms: 1,
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true } },
      series: [{}, ...opts.series.map((label, i) => ({ label, stroke: COLOURS[i % COLOURS.length]!, width: 1.5, spanGaps: false }))],
      axes: [{ stroke: 'currentColor' }, { stroke: 'currentColor' }],
    },
    [xs, ...ys] as uPlot.AlignedData,
    box,
  );
  const redrawMs = opts.redrawMs ?? 250;
  let frame = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let drawnAt = 0;
  const draw = (): void => {
    frame = 0;
    timer = undefined;
    drawnAt = performance.now();
    plot.setData([xs, ...ys] as uPlot.AlignedData);
  };
  const cancel = (): void => {
    if (frame !== 0) cancelAnimationFrame(frame);
    if (timer !== undefined) clearTimeout(timer);
    frame = 0;
    timer = undefined;
  };
  const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: opts.height ?? 220 }));
  resize.observe(box);
  const trim = (): void => {
    const over = xs.length - max;
    if (over <= 0) return;
    xs = xs.slice(over);
    ys = ys.map((s) => s.slice(over));
  };
  return {
    setData(x, y) {
      xs = x.slice();
      ys = opts.series.map((_, i) => (y[i] ?? []).slice());
      trim();
      cancel();
      draw();
    },
    append(x, y) {
      xs.push(x);
      for (let i = 0; i < ys.length; i++) ys[i]!.push(y[i] ?? null);
      // Trimming one point at a time would copy the arrays per point: let them overshoot by a tenth first.
      if (xs.length > max + Math.ceil(max / 10)) trim();
      if (frame !== 0 || timer !== undefined) return;
      const frameDraw = (): void => {
        timer = undefined;
        frame = requestAnimationFrame(() => {
          trim();
          draw();
        });
      };
      const wait = drawnAt + redrawMs - performance.now();
      if (wait > 0) timer = setTimeout(frameDraw, wait);
      else frameDraw();
    },
    destroy() {
      cancel();
      resize.disconnect();
      plot.destroy();
      box.remove();
    },
  };
}
