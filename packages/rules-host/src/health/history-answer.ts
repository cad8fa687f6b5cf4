/**
 * @module The answer of `GET /api/v1/health/history` (docs/operations.md, "Health history"), the cloud's and
 * the gateway's alike: without `series`, the series recorded; with it, their means per bucket (at most
 * `points`). Each server puts it behind its own authorization.
 */
import { OpsError } from './errors.ts';
import type { HealthHistory, HistoryAnswer } from './history.ts';
import { parseHistoryQuery } from './history-query.ts';

/** Answers the raw query string object `query` as of `now`; `service` names the server when it keeps no history. */
export function historyAnswer(
  history: Pick<HealthHistory, 'series' | 'query'> | undefined,
  query: unknown,
  now: number,
  service: 'cloud' | 'gateway',
): { series: string[] } | HistoryAnswer {
  const q = parseHistoryQuery(query, now);
  if (q.series === undefined) return { series: history?.series() ?? [] };
  if (history === undefined) throw new OpsError('FERRY_OPS_NO_SERIES', `this ${service} keeps no health history`, { path: 'series' });
  return history.query({ ...q, series: q.series }, now);
}
