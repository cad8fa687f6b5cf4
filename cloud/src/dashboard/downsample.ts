/**
 * @module Server-side downsampling of a device's telemetry for the dashboard's charts (docs/operations.md,
 * "Dashboard"): the range [from, to) is cut into `points` equal buckets, and each bucket with data answers
 * its time (the bucket's start), the mean, the minimum and the maximum of the values in it, and their count.
 * Min and max keep spikes visible that a mean alone would flatten. Buckets without data are left out, so a
 * silent device shows as a gap. Pure: the routes (routes.ts) feed it the stored points. Which members of a
 * value are fields is @ferry/dashboard/fields, shared with the browser, which names live points' fields alike.
 */
export { fieldValue, MAX_FIELDS, numericFields } from '@ferry/dashboard/fields';

export interface Bucketed {
  /** The bucket width in ms. */
  readonly step: number;
  readonly t: number[];
  readonly mean: number[];
  readonly min: number[];
  readonly max: number[];
  readonly count: number[];
}

/** `samples` are [tMs, value] in any order; those outside [from, to) are ignored. */
export function downsample(samples: Iterable<readonly [number, number]>, from: number, to: number, points: number): Bucketed {
  const step = Math.max(1, Math.ceil((to - from) / Math.max(1, points)));
  const n = Math.max(1, Math.ceil((to - from) / step));
  const sum = new Float64Array(n);
  const min = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  const max = new Float64Array(n).fill(Number.NEGATIVE_INFINITY);
  const count = new Uint32Array(n);
  for (const [t, v] of samples) {
    if (!(t >= from && t < to) || !Number.isFinite(v)) continue;
    const i = Math.floor((t - from) / step);
    sum[i]! += v;
    count[i]!++;
    if (v < min[i]!) min[i] = v;
    if (v > max[i]!) max[i] = v;
  }
  const out: Bucketed = { step, t: [], mean: [], min: [], max: [], count: [] };
  for (let i = 0; i < n; i++) {
    const c = count[i]!;
    if (c === 0) continue;
    out.t.push(from + i * step);
    out.mean.push(sum[i]! / c);
    out.min.push(min[i]!);
    out.max.push(max[i]!);
    out.count.push(c);
  }
  return out;
}
