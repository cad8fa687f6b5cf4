/**
 * @module Benchmark helpers: every figure is the median of several timed runs, measured in the same
 * process as its baseline, so ratios are meaningful on a shared 2-core machine. Progress goes to stderr;
 * the last line of stdout is one JSON object with the figures.
 */
import { SingleBar, Presets } from 'cli-progress';

export interface Figure {
  readonly name: string;
  readonly opsPerSec: number;
  readonly runs: readonly number[];
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export function progress(total: number, label: string): SingleBar {
  const bar = new SingleBar(
    { format: `${label} [{bar}] {value}/{total} runs`, stream: process.stderr, hideCursor: true, clearOnComplete: false },
    Presets.shades_classic,
  );
  bar.start(total, 0);
  return bar;
}

export const fmt = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M/s` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k/s` : `${n.toFixed(0)} /s`);

export interface Op {
  readonly name: string;
  readonly fn: () => unknown;
  readonly async?: boolean;
}

/**
 * Measures several ops in round-robin (run 1 of each, then run 2 of each, ...) so that a change of load
 * on the machine during the benchmark hits every op alike; ratios between them stay meaningful.
 */
export async function measureInterleaved(ops: readonly Op[], opts: { runs?: number; ms?: number; bar?: SingleBar } = {}): Promise<Figure[]> {
  const runs = opts.runs ?? 7;
  const ms = opts.ms ?? 250;
  const results = ops.map(() => [] as number[]);
  for (const op of ops) for (let i = 0; i < 2000; i++) op.async === true ? await op.fn() : op.fn();
  for (let r = 0; r < runs; r++) {
    for (const [k, op] of ops.entries()) {
      let n = 0;
      const t0 = performance.now();
      let t = t0;
      while (t - t0 < ms) {
        if (op.async === true) for (let i = 0; i < 32; i++) await op.fn();
        else for (let i = 0; i < 256; i++) op.fn();
        n += op.async === true ? 32 : 256;
        t = performance.now();
      }
      results[k]!.push((n * 1000) / (t - t0));
      opts.bar?.increment();
    }
  }
  return ops.map((op, k) => ({ name: op.name, opsPerSec: median(results[k]!), runs: results[k]! }));
}
