/**
 * @module Job snapshot format (counters, watermark, operator state) and its strict parser.
 *
 * A snapshot crosses the network when a rule moves between runtimes, so it is validated like any other
 * outside input; every field failure is reported as FERRY_RULES_SNAPSHOT_INVALID with the field's path.
 */
import { RULE_ERRORS, RuleError } from '../core/errors.ts';
import type { RuleErrorCode } from '../core/errors.ts';
import {
  expectArray,
  expectInteger,
  expectNullableFinite,
  expectNullableTimestamp,
  expectObject,
  expectOneOf,
  expectString,
  field,
  isJsonValue,
  valueError,
} from '../core/validate.ts';
import type { JsonObject } from '../core/validate.ts';
import type { JobState } from './state.ts';

export const SNAPSHOT_FORMAT = 'ferry.rules.snapshot/1';

/** Why inputs were not processed; `dropped` is their sum. */
export type DropCounters = {
  /** WHERE / condition was false. */
  filtered: number;
  /** Behind windows or join buffers already closed. */
  late: number;
  /** inputId already processed (at-least-once redelivery). */
  duplicate: number;
  /** Pushed while the job was not RUNNING. */
  inactive: number;
  /** Topic matches none of the job's inputs. */
  unrouted: number;
};

export type Counters = {
  in: number;
  out: number;
  dropped: number;
  errors: number;
  /** Injected clock at emission minus the result's event time; null before the first output. */
  lastLatencyMs: number | null;
  drops: DropCounters;
};

/** Where the job is in its input: what a host resumes from after a move. */
export type Watermark = {
  /** The job's time: newest of pushed timestamps and ticks; null before the first. */
  timeMs: number | null;
  /** Inputs consumed while RUNNING (duplicates and inactive pushes excluded). */
  seq: number;
  lastInputId: string | null;
  lastInputTimestampMs: number | null;
};

/** `numeric` is the catalog number (RuleError's `num`); snapshots travel between runtimes, so the name stays. */
export type ErrorInfo = { code: RuleErrorCode; numeric: number; message: string; atMs: number };

export type JobSnapshot = {
  format: typeof SNAPSHOT_FORMAT;
  /** Canonical plan text: a snapshot restores only into a job with the same plan. */
  plan: string;
  /** State when taken; restore does not apply it, the host decides whether to start. */
  state: Exclude<JobState, 'UNINSTALLED'>;
  failure: ErrorInfo | null;
  lastError: ErrorInfo | null;
  consecutiveErrors: number;
  counters: Counters;
  watermark: Watermark;
  /** Ids of the last inputs consumed, oldest first, for de-duplicating redeliveries. */
  recentIds: string[];
  operator: unknown;
};

export function zeroCounters(): Counters {
  return { in: 0, out: 0, dropped: 0, errors: 0, lastLatencyMs: null, drops: { filtered: 0, late: 0, duplicate: 0, inactive: 0, unrouted: 0 } };
}

function count(object: JsonObject, key: string, path: string): number {
  return expectInteger(field(object, key), `${path}.${key}`, 0);
}

function parseErrorInfo(value: unknown, path: string): ErrorInfo | null {
  if (value === null) return null;
  const object = expectObject(value, path, ['code', 'numeric', 'message', 'atMs']);
  const code = expectOneOf(field(object, 'code'), `${path}.code`, Object.keys(RULE_ERRORS) as RuleErrorCode[]);
  const numeric = expectInteger(field(object, 'numeric'), `${path}.numeric`, 3000, 3999);
  if (numeric !== RULE_ERRORS[code].num) throw valueError(`${path}.numeric`, `must be ${RULE_ERRORS[code].num} for ${code}`);
  const atMs = expectNullableFinite(field(object, 'atMs'), `${path}.atMs`);
  if (atMs === null) throw valueError(`${path}.atMs`, 'must be a number');
  return { code, numeric, message: expectString(field(object, 'message'), `${path}.message`), atMs };
}

function parseCounters(value: unknown, path: string): Counters {
  const object = expectObject(value, path, ['in', 'out', 'dropped', 'errors', 'lastLatencyMs', 'drops']);
  const dropsPath = `${path}.drops`;
  const drops = expectObject(field(object, 'drops'), dropsPath, ['filtered', 'late', 'duplicate', 'inactive', 'unrouted']);
  const parsedDrops: DropCounters = {
    filtered: count(drops, 'filtered', dropsPath),
    late: count(drops, 'late', dropsPath),
    duplicate: count(drops, 'duplicate', dropsPath),
    inactive: count(drops, 'inactive', dropsPath),
    unrouted: count(drops, 'unrouted', dropsPath),
  };
  const dropped = count(object, 'dropped', path);
  const sum = Object.values(parsedDrops).reduce((a, b) => a + b, 0);
  if (dropped !== sum) throw valueError(`${path}.dropped`, `must equal the sum of drops (${sum})`);
  return {
    in: count(object, 'in', path),
    out: count(object, 'out', path),
    dropped,
    errors: count(object, 'errors', path),
    lastLatencyMs: expectNullableFinite(field(object, 'lastLatencyMs'), `${path}.lastLatencyMs`),
    drops: parsedDrops,
  };
}

function parseWatermark(value: unknown, path: string): Watermark {
  const object = expectObject(value, path, ['timeMs', 'seq', 'lastInputId', 'lastInputTimestampMs']);
  const lastInputId = field(object, 'lastInputId');
  return {
    timeMs: expectNullableTimestamp(field(object, 'timeMs'), `${path}.timeMs`),
    seq: count(object, 'seq', path),
    lastInputId: lastInputId === null ? null : expectString(lastInputId, `${path}.lastInputId`),
    lastInputTimestampMs: expectNullableTimestamp(field(object, 'lastInputTimestampMs'), `${path}.lastInputTimestampMs`),
  };
}

/** Validates a snapshot's envelope; the operator state is left for the operator to validate. */
export function parseSnapshot(value: unknown, path = 'snapshot'): JobSnapshot {
  try {
    const object = expectObject(value, path, [
      'format',
      'plan',
      'state',
      'failure',
      'lastError',
      'consecutiveErrors',
      'counters',
      'watermark',
      'recentIds',
      'operator',
    ]);
    if (field(object, 'format') !== SNAPSHOT_FORMAT) throw valueError(`${path}.format`, `must be ${JSON.stringify(SNAPSHOT_FORMAT)}`);
    if (!isJsonValue(value)) throw valueError(path, 'must be plain JSON');
    const recentIds = expectArray(field(object, 'recentIds'), `${path}.recentIds`).map((id, index) => expectString(id, `${path}.recentIds[${index}]`));
    if (new Set(recentIds).size !== recentIds.length) throw valueError(`${path}.recentIds`, 'must not repeat an id');
    return {
      format: SNAPSHOT_FORMAT,
      plan: expectString(field(object, 'plan'), `${path}.plan`),
      state: expectOneOf(field(object, 'state'), `${path}.state`, ['INSTALLED', 'RUNNING', 'STOPPED'] as const),
      failure: parseErrorInfo(field(object, 'failure'), `${path}.failure`),
      lastError: parseErrorInfo(field(object, 'lastError'), `${path}.lastError`),
      consecutiveErrors: count(object, 'consecutiveErrors', path),
      counters: parseCounters(field(object, 'counters'), `${path}.counters`),
      watermark: parseWatermark(field(object, 'watermark'), `${path}.watermark`),
      recentIds,
      operator: field(object, 'operator'),
    };
  } catch (error) {
    throw asSnapshotError(error);
  }
}

/** Field-level failures inside a snapshot are all one wire error: the snapshot is unusable. */
export function asSnapshotError(error: unknown): unknown {
  if (error instanceof RuleError && error.code.startsWith('FERRY_RULES_FIELD_')) {
    return new RuleError('FERRY_RULES_SNAPSHOT_INVALID', `invalid snapshot: ${error.message}`, error.path === undefined ? {} : { path: error.path });
  }
  return error;
}
