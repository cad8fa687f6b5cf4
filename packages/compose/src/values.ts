/**
 * @module Channel values and sensor updates. A value is a number, boolean, string, or an array of them
 * (arrays of arrays too, as ServIoTicy's `Array[...]` types allow); `null` stands for "no value yet".
 * A sensor update (SU) is `{"channels": {"<ch>": {"current-value": v}}, "lastUpdate": ms}`.
 */
import { type ComposeError, composeError } from './errors.ts';

export type Scalar = number | boolean | string;
export type Value = Scalar | null | readonly Value[];

/** A stream's stored state: its channels' values and the time of the newest update that made it. */
export interface StreamValue {
  readonly channels: Readonly<Record<string, Value>>;
  readonly lastUpdate: number;
  /** Idempotency key of the output that produced it (composite streams), or `src:<lastUpdate>` for a sensor update. */
  readonly id: string;
}

export interface SensorUpdate {
  readonly channels: Readonly<Record<string, { readonly 'current-value': Value }>>;
  readonly lastUpdate: number;
}

/** Channel types of both document versions: `number`, `boolean`, `string`, `geo_point`, `Array[<type>]`. */
export const SCALAR_TYPES = new Set(['number', 'boolean', 'string', 'geo_point']);
export const MAX_STRING = 65_536;
export const MAX_ARRAY = 10_000;

export function isKnownType(t: string): boolean {
  const m = /^Array\[(.+)\]$/.exec(t);
  return m !== null ? isKnownType(m[1]!) : SCALAR_TYPES.has(t);
}

/** Whether `v` has channel type `t` (`null` has every type: a channel may be empty). */
export function hasType(v: Value, t: string): boolean {
  if (v === null) return true;
  const m = /^Array\[(.+)\]$/.exec(t);
  if (m !== null) return Array.isArray(v) && v.every((x) => hasType(x, m[1]!));
  if (t === 'geo_point') return typeof v === 'string';
  return typeof v === t;
}

/**
 * Checks that `v` is a value: plain JSON of the allowed kinds, finite numbers, strings of at most
 * MAX_STRING code units, at most MAX_ARRAY array elements in all (nested ones counted), nesting at most 8.
 * Returns a reason, or undefined when it is one. The caps bound what any operation on a value can cost.
 */
export function valueProblem(v: unknown): string | undefined {
  const count = { n: 0 };
  return problem(v, 0, count);
}

function problem(v: unknown, depth: number, count: { n: number }): string | undefined {
  if (v === null || typeof v === 'boolean') return undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? undefined : `${v} is not a finite number`;
  if (typeof v === 'string') return v.length <= MAX_STRING ? undefined : `a string longer than ${MAX_STRING}`;
  if (Array.isArray(v)) {
    if (depth >= 8) return 'arrays nested deeper than 8';
    count.n += v.length;
    if (count.n > MAX_ARRAY) return `more than ${MAX_ARRAY} array elements`;
    for (const x of v) {
      const p = problem(x, depth + 1, count);
      if (p !== undefined) return p;
    }
    return undefined;
  }
  return `a ${typeof v === 'object' ? 'JSON object' : typeof v} is not a channel value`;
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * Validates a sensor update against a simple stream's channels (name -> declared type). Unknown
 * channels, extra fields, values of the wrong kind or type, and a lastUpdate that is not a non-negative
 * integer of milliseconds are refused.
 */
export function parseSensorUpdate(
  raw: unknown,
  channels: ReadonlyMap<string, string>,
  where: { so: string; stream: string },
): { ok: true; value: SensorUpdate } | { ok: false; error: ComposeError } {
  const bad = (detail: string, channel?: string) => ({
    ok: false as const,
    error: composeError('FERRY_COMPOSE_UPDATE', detail, { ...where, ...(channel !== undefined && { channel }) }),
  });
  if (!isRecord(raw)) return bad('a sensor update is a JSON object');
  for (const k of Object.keys(raw)) if (k !== 'channels' && k !== 'lastUpdate') return bad(`unknown field ${JSON.stringify(k)}`);
  const lu = raw['lastUpdate'];
  if (typeof lu !== 'number' || !Number.isSafeInteger(lu) || lu < 0) return bad('lastUpdate is a non-negative integer of milliseconds');
  const chs = raw['channels'];
  if (!isRecord(chs) || Object.keys(chs).length === 0) return bad('channels is a non-empty object');
  for (const [name, c] of Object.entries(chs)) {
    const type = channels.get(name);
    if (type === undefined) return bad('the stream has no such channel', name);
    if (!isRecord(c) || !Object.hasOwn(c, 'current-value') || Object.keys(c).length !== 1) return bad('a channel is {"current-value": <value>}', name);
    const v = c['current-value'];
    const p = valueProblem(v);
    if (p !== undefined) return bad(p, name);
    if (!hasType(v as Value, type)) return bad(`the value is not of the channel's type ${type}`, name);
  }
  return { ok: true, value: raw as unknown as SensorUpdate };
}
