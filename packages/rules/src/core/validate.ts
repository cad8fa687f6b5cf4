/**
 * @module Strict, path-tracking checks for JSON objects from outside (rule objects, relocations, snapshots).
 *
 * Hand-written rather than a schema library: the core takes no dependencies, and each failure must name
 * the exact field path (`jobConfig.jobProps.window.size`) and the reason.
 */
import { RuleError } from './errors.ts';
import { LIMITS } from './plan.ts';

export type JsonObject = { readonly [key: string]: unknown };

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Appends a key or index to a field path; odd keys are quoted so the path stays unambiguous. */
export function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (!IDENT.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path === '' ? key : `${path}.${key}`;
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function where(path: string): string {
  return path === '' ? 'the object' : path;
}

export function typeError(path: string, expected: string, value: unknown): RuleError {
  return new RuleError('FERRY_RULES_FIELD_TYPE', `${where(path)} must be ${expected}, got ${describeType(value)}`, { path });
}

export function valueError(path: string, reason: string): RuleError {
  return new RuleError('FERRY_RULES_FIELD_VALUE', `${where(path)} ${reason}`, { path });
}

export function isPlainObject(value: unknown): value is JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Checks that `value` is a plain object whose keys are all in `required` or `optional`, and that every
 * required key is present. Unknown keys are reported before missing ones: a typo (`treshold`) then
 * names the typo, which is the more useful message.
 */
export function expectObject(value: unknown, path: string, required: readonly string[], optional: readonly string[] = []): JsonObject {
  if (!isPlainObject(value)) throw typeError(path, 'an object', value);
  for (const key of Object.keys(value)) {
    if (!required.includes(key) && !optional.includes(key)) {
      const allowed = [...required, ...optional].join(', ');
      throw new RuleError('FERRY_RULES_FIELD_UNKNOWN', `${childPath(path, key)} is not a known field (allowed: ${allowed})`, {
        path: childPath(path, key),
      });
    }
  }
  for (const key of required) {
    if (!Object.hasOwn(value, key) || value[key] === undefined) {
      throw new RuleError('FERRY_RULES_FIELD_REQUIRED', `${childPath(path, key)} is required`, { path: childPath(path, key) });
    }
  }
  return value;
}

/** Own property read; `undefined` when absent, so prototype keys (`constructor`, `__proto__`) never leak in. */
export function field(obj: JsonObject, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

export function expectString(value: unknown, path: string, options: { nonEmpty?: boolean } = {}): string {
  if (typeof value !== 'string') throw typeError(path, 'a string', value);
  if (options.nonEmpty === true && value.length === 0) throw valueError(path, 'must not be empty');
  return value;
}

export function expectInteger(value: unknown, path: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number') throw typeError(path, 'a number', value);
  if (!Number.isInteger(value)) throw valueError(path, `must be an integer, got ${value}`);
  if (value < min || value > max) throw valueError(path, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

export function expectFinite(value: unknown, path: string): number {
  if (typeof value !== 'number') throw typeError(path, 'a number', value);
  if (!Number.isFinite(value)) throw valueError(path, 'must be a finite number');
  return value;
}

/** A timestamp in ms within the ECMAScript time value range (LIMITS.maxTimestampMs). */
export function expectTimestamp(value: unknown, path: string): number {
  const ms = expectFinite(value, path);
  if (Math.abs(ms) > LIMITS.maxTimestampMs) throw valueError(path, `must be within ±${LIMITS.maxTimestampMs} ms`);
  return ms;
}

export function expectNullableTimestamp(value: unknown, path: string): number | null {
  return value === null ? null : expectTimestamp(value, path);
}

export function expectNullableFinite(value: unknown, path: string): number | null {
  return value === null ? null : expectFinite(value, path);
}

export function expectOneOf<const T extends string>(value: unknown, path: string, allowed: readonly T[]): T {
  if (typeof value !== 'string') throw typeError(path, `one of ${allowed.join(', ')}`, value);
  const found = allowed.find((candidate) => candidate === value);
  if (found === undefined) throw valueError(path, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  return found;
}

export function expectArray(value: unknown, path: string): readonly unknown[] {
  if (!Array.isArray(value)) throw typeError(path, 'an array', value);
  return value;
}

/** True for values that survive JSON.stringify/parse unchanged (what snapshots and join buffers store). */
export function isJsonValue(value: unknown, depth = 0): boolean {
  if (depth > 64) return false;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((item) => isJsonValue(item, depth + 1));
  if (isPlainObject(value)) return Object.values(value).every((item) => isJsonValue(item, depth + 1));
  return false;
}
