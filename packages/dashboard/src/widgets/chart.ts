/**
 * @module A time chart: uPlot (made for time series at volume) with live append. Points past `maxPoints` drop
 * off the left, so a chart left open for hours keeps a bounded memory; appends arriving within one frame are
 * drawn once (requestAnimationFrame). X values are wall-clock milliseconds.
 */
import uPlot from 'uplot';

export interface TimeChartOptions {
  readonly title: string;
  readonly series: string[];
  /** Points kept (the oldest drop off); default 10 000. */
  readonly maxPoints?: number;
  /** Plot height in CSS pixels; default 220. */
  readonly height?: number;
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
  let frame = 0;
  const draw = (): void => {
    frame = 0;
    plot.setData([xs, ...ys] as uPlot.AlignedData);
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
      if (frame !== 0) cancelAnimationFrame(frame);
      draw();
    },
    append(x, y) {
      xs.push(x);
      for (let i = 0; i < ys.length; i++) ys[i]!.push(y[i] ?? null);
      // Trimming one point at a time would copy the arrays per point: let them overshoot by a tenth first.
      if (xs.length > max + Math.ceil(max / 10)) trim();
      if (frame === 0)
        frame = requestAnimationFrame(() => {
          trim();
          draw();
        });
    },
    destroy() {
      if (frame !== 0) cancelAnimationFrame(frame);
      resize.disconnect();
      plot.destroy();
      box.remove();
    },
  };
}
