/**
 * @module The stored forms the SQLite and Redis stores share: a time-series point's value and a schedule, both
 * as JSON text.
 */
import type { Point } from '../ingest/ports.ts';
import type { Schedule } from '../functions/schedules/stores.ts';
import { SecretSealer } from '../functions/tokens/sealed-secret.ts';
import { StoreError } from './errors.ts';

/** Checks a point and returns its value as JSON text (FERRY_STORE_POINT otherwise). */
export function pointValue(point: Point): string {
  if (typeof point.ts !== 'number' || Number.isNaN(point.ts)) throw new StoreError('FERRY_STORE_POINT', `ts must be a number, got ${String(point.ts)}`);
  let text: string | undefined;
  try {
    text = JSON.stringify(point.value) as string | undefined;
  } catch (e) {
    throw new StoreError('FERRY_STORE_POINT', `value is not JSON: ${String(e)}`, e);
  }
  // undefined (the pipeline never produces it: a message without `d` has value null) is stored as null.
  return text ?? 'null';
}

/**
 * Seals the public token a schedule runs under (it is a bearer credential) under a key derived from the
 * cloud's master key, bound to the schedule's id: a copy of the database alone cannot call with it.
 */
export const scheduleSealer = (masterKey: Uint8Array): SecretSealer => new SecretSealer(masterKey, 'ferry schedule token');

/**
 * The stored form of a schedule: its JSON (args are numbers or decimal strings, so JSON is exact). With a
 * sealer its token is stored sealed (`sealedToken`, base64), never in clear.
 */
export function encodeSchedule(s: Schedule, sealer?: SecretSealer): string {
  if (sealer === undefined || s.token === undefined) return JSON.stringify(s);
  const { token, ...rest } = s;
  return JSON.stringify({ ...rest, sealedToken: sealer.seal(`schedule:${s.id}`, new TextEncoder().encode(token)).toString('base64') });
}

const isStr = (x: unknown): x is string => typeof x === 'string';

/** Reads a stored schedule back, checking its shape; FERRY_STORE_CORRUPT otherwise. */
export function decodeSchedule(text: string, where: string, sealer?: SecretSealer): Schedule {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new StoreError('FERRY_STORE_CORRUPT', `${where}: not JSON`, e);
  }
  const s = v as Partial<Record<keyof Schedule, unknown>> | null;
  const ok =
    typeof s === 'object' &&
    s !== null &&
    isStr(s.id) &&
    isStr(s.owner) &&
    isStr(s.namespace) &&
    isStr(s.hash) &&
    isStr(s.export) &&
    Array.isArray(s.args) &&
    s.args.every((a) => typeof a === 'number' || typeof a === 'string') &&
    typeof s.periodS === 'number' &&
    isStr(s.writeTo) &&
    typeof s.startMs === 'number' &&
    (s.token === undefined || isStr(s.token));
  if (!ok) throw new StoreError('FERRY_STORE_CORRUPT', `${where}: not a schedule: ${text.slice(0, 200)}`);
  const sealed = (v as { sealedToken?: unknown }).sealedToken;
  if (sealed === undefined) return v as Schedule;
  if (typeof sealed !== 'string' || sealer === undefined) throw new StoreError('FERRY_STORE_CORRUPT', `${where}: a sealed token and no master key to open it`);
  const opened = sealer.open(`schedule:${s!.id as string}`, Buffer.from(sealed, 'base64'));
  if (opened === undefined) throw new StoreError('FERRY_STORE_CORRUPT', `${where}: the sealed token does not open under this master key`);
  const { sealedToken: _sealed, ...rest } = v as Schedule & { sealedToken: string };
  return { ...rest, token: new TextDecoder().decode(opened) };
}
