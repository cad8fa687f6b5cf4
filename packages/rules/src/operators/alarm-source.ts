/**
 * @module What an alarm job keeps per source, and its snapshot form: a moved or restored alarm job carries
 * which sources are raised, their running `forMs` streaks, their M-of-N rings and their last samples, so it
 * never raises a raised source again and never loses a pending streak.
 */
import type { AlarmSpec } from '../core/alarm-spec.ts';
import { isSample } from '../core/alarm-spec.ts';
import { ALARM_LIMITS } from '../core/limits.ts';
import { expectArray, expectNullableTimestamp, expectObject, expectString, expectTimestamp, field, typeError, valueError } from '../core/validate.ts';

export type Sample = number | string | boolean;

export type SourceState = {
  readonly name: string;
  /** Time of the last real sample. */
  lastMs: number;
  /**
   * The newest time this source was evaluated at (a sample, a repetition, a fired deadline). A sample stamped
   * before it (but not before lastMs) is taken at this time, so a source's transitions never go back in time.
   */
  evalMs: number;
  /** The last sample (what the `last` policy repeats, and the value a deadline-raised transition reports). */
  value: Sample;
  /** Time of the last repetition under policy `last` since the last real sample; null: none. */
  heldMs: number | null;
  /** Since when the condition (after M of N) has held without a break; null: it does not hold. */
  streakMs: number | null;
  /** M of N: the last outcomes, oldest first, `1` a breach; `ones` counts them. Empty without mOfN. */
  bits: string;
  ones: number;
  raised: boolean;
  /** The missing-data policy was applied to the current silence (or `last` has nothing left to change). */
  silent: boolean;
};

export function newSource(name: string, atMs: number, value: Sample): SourceState {
  return { name, lastMs: atMs, evalMs: atMs, value, heldMs: null, streakMs: null, bits: '', ones: 0, raised: false, silent: false };
}

export function sourceSnapshot(s: SourceState): unknown {
  return {
    name: s.name,
    lastMs: s.lastMs,
    evalMs: s.evalMs,
    value: s.value,
    heldMs: s.heldMs,
    streakMs: s.streakMs,
    bits: s.bits,
    raised: s.raised,
    silent: s.silent,
  };
}

function expectBoolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') throw typeError(path, 'a boolean', value);
  return value;
}

/** Validates a snapshot's sources (they may come from another runtime) without touching any state. */
export function parseSources(value: unknown, path: string, spec: AlarmSpec, maxSources: number): SourceState[] {
  const items = expectArray(value, path);
  if (items.length > maxSources) throw valueError(path, `must hold at most ${maxSources} sources (maxAlarmSources)`);
  const seen = new Set<string>();
  const maxBits = spec.mOfN?.n ?? 0;
  return items.map((item, index): SourceState => {
    const at = `${path}[${index}]`;
    const object = expectObject(item, at, ['name', 'lastMs', 'evalMs', 'value', 'heldMs', 'streakMs', 'bits', 'raised', 'silent']);
    const name = expectString(field(object, 'name'), `${at}.name`, { nonEmpty: true });
    if (name.length > ALARM_LIMITS.maxSourceLength) throw valueError(`${at}.name`, `must be at most ${ALARM_LIMITS.maxSourceLength} characters`);
    if (seen.has(name)) throw valueError(`${at}.name`, 'repeats a source');
    seen.add(name);
    const sample = field(object, 'value');
    if (!isSample(spec.condition, sample)) throw valueError(`${at}.value`, `must be a sample for condition ${spec.condition.op}`);
    const bits = expectString(field(object, 'bits'), `${at}.bits`);
    if (!/^[01]*$/.test(bits) || bits.length > maxBits) throw valueError(`${at}.bits`, `must be at most ${maxBits} of 0 and 1`);
    const lastMs = expectTimestamp(field(object, 'lastMs'), `${at}.lastMs`);
    const evalMs = expectTimestamp(field(object, 'evalMs'), `${at}.evalMs`);
    if (evalMs < lastMs) throw valueError(`${at}.evalMs`, 'must not be before lastMs');
    return {
      name,
      lastMs,
      evalMs,
      value: sample,
      heldMs: expectNullableTimestamp(field(object, 'heldMs'), `${at}.heldMs`),
      streakMs: expectNullableTimestamp(field(object, 'streakMs'), `${at}.streakMs`),
      bits,
      ones: bits.split('1').length - 1,
      raised: expectBoolean(field(object, 'raised'), `${at}.raised`),
      silent: expectBoolean(field(object, 'silent'), `${at}.silent`),
    };
  });
}
