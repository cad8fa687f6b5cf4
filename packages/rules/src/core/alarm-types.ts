/**
 * @module The shapes an alarm rule job (jobType `alarm`) takes and emits, shared by the rule engine (which
 * evaluates the condition, on a gateway or in the cloud) and the cloud's alarm service (which keeps the alarm's
 * lifecycle). docs/operations.md, "Alarms", documents both.
 */

/** Severities, most severe first (ThingsBoard's and ITU-T X.733's five). */
export const SEVERITIES = ['critical', 'major', 'minor', 'warning', 'indeterminate'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** What a sample is compared with. `between`/`outside` are inclusive of their bounds. */
export type AlarmCondition =
  | { readonly op: '>' | '>=' | '<' | '<='; readonly threshold: number }
  | { readonly op: '==' | '!='; readonly threshold: number | boolean | string }
  | { readonly op: 'between' | 'outside'; readonly low: number; readonly high: number };

/**
 * What no data means, after `afterMs` without a sample for a source (CloudWatch's treatMissingData):
 * `ignore` keeps the alarm as it is, `breaching` counts the silence as a breach, `not-breaching` as a
 * good sample, `last` repeats the last sample.
 */
export interface MissingData {
  readonly afterMs: number;
  readonly policy: 'ignore' | 'breaching' | 'not-breaching' | 'last';
}

/** `jobConfig.jobProps` of a rule of jobType `alarm`. */
export interface AlarmRuleProps {
  /** The alarm type: 1-64 of [A-Za-z0-9._-]. One alarm exists per (type, source). */
  readonly type: string;
  readonly severity: Severity;
  /** JSON path of the compared value in the record (e.g. `temp`, `values.rssi`). */
  readonly value: string;
  /** JSON path of the source's name in the record (e.g. `device`); absent: the topic the record came on. */
  readonly source?: string;
  readonly condition: AlarmCondition;
  /** The condition must hold continuously this long before the alarm is raised (0: at once). */
  readonly forMs?: number;
  /** Raised when at least `m` of the last `n` samples breach (1 <= m <= n <= 1000). */
  readonly mOfN?: { readonly m: number; readonly n: number };
  readonly missing?: MissingData;
}

/**
 * What an alarm job emits on its output topic: an edge, never a level. A job emits `raise` once when a source
 * starts breaching (after `forMs` / `mOfN`) and `clear` once when it stops; its snapshot keeps which sources are
 * raised, so a restored or moved job does not raise again.
 */
export interface AlarmTransition {
  readonly kind: 'raise' | 'clear';
  readonly type: string;
  readonly source: string;
  readonly severity: Severity;
  /** The sample that made the edge (undefined when missing data did). */
  readonly value?: unknown;
  readonly atMs: number;
  /** The job that emitted it. */
  readonly rule: string;
  /** Why, for people: e.g. `temp > 30 for 60000 ms`, `no data for 30000 ms`. */
  readonly reason: string;
}
