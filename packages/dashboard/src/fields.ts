/**
 * @module The numeric fields of a telemetry value, named the same on the server (the series API downsamples
 * them, cloud/src/dashboard/downsample.ts) and in the browser (the streams page charts live points by them).
 */

/** Fields charted per event at most (an event with more numeric fields shows its first ones). */
export const MAX_FIELDS = 16;

/**
 * The numeric fields of a telemetry value: a number is the field `value`; an object's own finite-number
 * members are fields by name (one level of nesting, as `a.b`). A key holding a dot is left out: its name
 * would be ambiguous.
 */
export function numericFields(value: unknown): Map<string, number> {
  const out = new Map<string, number>();
  if (typeof value === 'number') {
    if (Number.isFinite(value)) out.set('value', value);
    return out;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return out;
  for (const [k, v] of Object.entries(value)) {
    if (out.size >= MAX_FIELDS) break;
    if (k.includes('.')) continue;
    if (typeof v === 'number' && Number.isFinite(v)) out.set(k, v);
    else if (typeof v === 'object' && v !== null && !Array.isArray(v))
      for (const [k2, v2] of Object.entries(v))
        if (out.size < MAX_FIELDS && !k2.includes('.') && typeof v2 === 'number' && Number.isFinite(v2)) out.set(`${k}.${k2}`, v2);
  }
  return out;
}

/** The value of field `name` (as numericFields names it) in a telemetry value, when it is a finite number. */
export function fieldValue(value: unknown, name: string): number | undefined {
  if (typeof value === 'number') return name === 'value' && Number.isFinite(value) ? value : undefined;
  let v: unknown = value;
  const parts = name.split('.');
  if (parts.length > 2) return undefined;
  for (const p of parts) {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.hasOwn(v, p)) return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
