/**
 * @module The metric sampler (docs/operations.md "Alarms", metric alarms): every check period it reads the
 * metrics that metric alarm rules name from the cloud's prom-client registry and feeds each rule's job one
 * record `{value, source}` on the rule's internal input topic. A name is a gauge or counter (`name`, the sum
 * of the series matching the rule's labels), or a histogram with a suffix: `name:count`, `name:sum`,
 * `name:avg` (sum / count), or `name:p50` ... `name:p999` (a quantile, interpolated inside its bucket).
 */
import { Histogram, type MetricObjectWithValues, type MetricValue, type MetricValueWithName, type Registry } from 'prom-client';

const SUFFIX = /^(.+):(count|sum|avg|p(\d{2,3}))$/;

type Values = MetricObjectWithValues<MetricValue<string>>;

/** Why `name` cannot be sampled from `registry`, or undefined when it can. */
export function metricProblem(registry: Registry, name: string): string | undefined {
  const m = SUFFIX.exec(name);
  const base = m?.[1] ?? name;
  const metric = registry.getSingleMetric(base);
  if (metric === undefined) return `no metric ${base} in this cloud's registry (GET /metrics lists them)`;
  const histogram = metric instanceof Histogram;
  if (m === null) return histogram ? `${name} is a histogram: name a quantile or aggregate, e.g. ${name}:p99, ${name}:avg, ${name}:count` : undefined;
  if (!histogram) return `${base} is not a histogram: ${name.slice(base.length)} applies to histograms only`;
  const q = m[3];
  if (q !== undefined && (Number(`0.${q}`) <= 0 || Number(`0.${q}`) >= 1)) return `quantile ${q} is not between 0 and 1`;
  return undefined;
}

const labelsMatch = (have: Record<string, unknown>, want: Readonly<Record<string, string>> | undefined): boolean =>
  want === undefined || Object.entries(want).every(([k, v]) => String(have[k]) === v);

/** The metric's current value for a rule's name and labels; undefined when it has no matching series yet. */
export async function sampleMetric(registry: Registry, name: string, labels?: Readonly<Record<string, string>>): Promise<number | undefined> {
  const m = SUFFIX.exec(name);
  const metric = registry.getSingleMetric(m?.[1] ?? name);
  if (metric === undefined) return undefined;
  const got = (await metric.get()) as Values;
  const values = got.values.filter((v) => labelsMatch(v.labels, labels));
  if (m === null) return values.length === 0 ? undefined : values.reduce((s, v) => s + v.value, 0);
  const base = m[1]!;
  const named = (suffix: string): MetricValueWithName<string>[] =>
    (values as MetricValueWithName<string>[]).filter((v) => v.metricName === `${base}_${suffix}`);
  const total = (suffix: string): number => named(suffix).reduce((s, v) => s + v.value, 0);
  const count = total('count');
  if (m[2] === 'count') return count;
  if (m[2] === 'sum') return total('sum');
  if (count === 0) return undefined;
  if (m[2] === 'avg') return total('sum') / count;
  return quantile(named('bucket'), Number(`0.${m[3]}`), count);
}

/** A quantile from cumulative buckets (summed over series by `le`), linear inside its bucket as Prometheus' histogram_quantile. */
function quantile(buckets: readonly MetricValueWithName<string>[], q: number, count: number): number {
  const byLe = new Map<number, number>();
  for (const b of buckets) {
    const le = b.labels['le'] === '+Inf' ? Number.POSITIVE_INFINITY : Number(b.labels['le']);
    byLe.set(le, (byLe.get(le) ?? 0) + b.value);
  }
  const sorted = [...byLe].sort((a, b) => a[0] - b[0]);
  const rank = q * count;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, c] of sorted) {
    if (c >= rank) {
      if (!Number.isFinite(le)) return prevLe; // beyond the last bound: its lower edge, as Prometheus does
      return c === prevCount ? le : prevLe + ((le - prevLe) * (rank - prevCount)) / (c - prevCount);
    }
    prevLe = le;
    prevCount = c;
  }
  return prevLe;
}
