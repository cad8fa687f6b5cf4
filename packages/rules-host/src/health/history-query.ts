/**
 * @module The query of `GET /api/v1/health/history` (docs/operations.md, "Health history"): which series, the
 * time range and how many points, each bounded; anything else is FERRY_OPS_BAD_QUERY naming the parameter.
 * Pure, so a property test can throw anything at it.
 */
import { OpsError } from './errors.ts';

/** Points answered by default, and at most (the contract of the health history API). */
export const DEFAULT_POINTS = 500;
export const MAX_POINTS = 5000;
/** The range when `from` is not given: the last hour. */
export const DEFAULT_RANGE_MS = 3_600_000;
/** The longest range one query may span: the hourly rollups' retention, and a little more. */
export const MAX_RANGE_MS = 400 * 86_400_000;
/** A series name: `readyz`, `probe.latency_ms`, `component.rule:cloud-1.up`, ... */
const SERIES_NAME = /^[A-Za-z0-9_.:/@-]{1,160}$/;

export interface HistoryQuery {
  /** Absent: list the series that exist. */
  readonly series?: string;
  readonly from: number;
  readonly to: number;
  readonly points: number;
}

const bad = (name: string, what: string): never => {
  throw new OpsError('FERRY_OPS_BAD_QUERY', `${name} ${what}`, { path: name });
};

/** A non-negative integer of at most 15 digits (a Unix ms time or a count), else undefined. */
function integer(raw: unknown): number | undefined {
  if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw)) return undefined;
  return Number(raw);
}

/** Parses `?series=&from=&to=&points=` against `now` (Unix ms). */
export function parseHistoryQuery(q: unknown, now: number): HistoryQuery {
  const o = typeof q === 'object' && q !== null ? (q as Record<string, unknown>) : {};
  const series = o['series'];
  if (series !== undefined && (typeof series !== 'string' || !SERIES_NAME.test(series)))
    bad('series', 'must be a series name (1 to 160 of A-Z a-z 0-9 _ . : / @ -)');
  const to = o['to'] === undefined ? now : (integer(o['to']) ?? bad('to', 'must be Unix milliseconds (an integer)'));
  const from = o['from'] === undefined ? Math.max(0, to - DEFAULT_RANGE_MS) : (integer(o['from']) ?? bad('from', 'must be Unix milliseconds (an integer)'));
  if (from >= to) bad('from', 'must be before to');
  if (to - from > MAX_RANGE_MS) bad('from', `must be at most ${MAX_RANGE_MS / 86_400_000} days before to`);
  let points = DEFAULT_POINTS;
  if (o['points'] !== undefined) {
    const n = integer(o['points']);
    if (n === undefined || n < 1 || n > MAX_POINTS) bad('points', `must be an integer from 1 to ${MAX_POINTS}`);
    points = n as number;
  }
  return { ...(typeof series === 'string' && { series }), from, to, points };
}
