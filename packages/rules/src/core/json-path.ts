/**
 * @module A small, safe JSON path subset: `$`, `.name`, `['any name']`, `[index]`; parse, format, read.
 *
 * Deliberately no wildcards, slices, filters, recursive descent or script: a rule reads one value per
 * path, paths come from outside, and evaluation must never run code or walk prototypes.
 */
import { RuleError } from './errors.ts';

export type PathSegment = string | number;
export type FieldPath = readonly PathSegment[];

/** Returned by `readPath` when a segment is absent (distinct from a JSON `null` value). */
export const MISSING: unique symbol = Symbol('missing');

const MAX_PATH_LENGTH = 1024;
const MAX_SEGMENTS = 32;
const MAX_INDEX = 1_000_000;
const DOT_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*/;

function fail(text: string, path: string, at: number, reason: string): RuleError {
  return new RuleError('FERRY_RULES_JSON_PATH', `${path} ${JSON.stringify(text)}: ${reason} at character ${at + 1}`, { path });
}

/** Parses `text` (e.g. `$.a.b[0]`); `path` names the field holding it, for the error. */
export function parseJsonPath(text: string, path: string): FieldPath {
  if (text.length > MAX_PATH_LENGTH) throw fail(text.slice(0, 32), path, 0, `longer than ${MAX_PATH_LENGTH} characters`);
  if (!text.startsWith('$')) throw fail(text, path, 0, 'must start with $');
  const segments: PathSegment[] = [];
  let i = 1;
  while (i < text.length) {
    if (segments.length === MAX_SEGMENTS) throw fail(text, path, i, `more than ${MAX_SEGMENTS} segments`);
    const ch = text[i];
    if (ch === '.') {
      const name = DOT_NAME.exec(text.slice(i + 1));
      if (name === null) throw fail(text, path, i + 1, 'expected a name after .');
      segments.push(name[0]);
      i += 1 + name[0].length;
    } else if (ch === '[') {
      const next = text[i + 1];
      if (next === "'" || next === '"') {
        const [name, end] = readQuoted(text, path, i + 1, next);
        if (text[end] !== ']') throw fail(text, path, end, 'expected ]');
        segments.push(name);
        i = end + 1;
      } else {
        const digits = /^(0|[1-9][0-9]*)\]/.exec(text.slice(i + 1));
        if (digits === null) throw fail(text, path, i + 1, 'expected a non-negative integer index or a quoted name');
        const index = Number(digits[1]);
        if (index > MAX_INDEX) throw fail(text, path, i + 1, `index above ${MAX_INDEX}`);
        segments.push(index);
        i += 1 + digits[0].length;
      }
    } else {
      throw fail(text, path, i, 'expected . or [');
    }
  }
  return segments;
}

/** Reads a quoted name starting at `start` (the quote); returns the name and the index after the closing quote. */
function readQuoted(text: string, path: string, start: number, quote: string): [string, number] {
  let name = '';
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i];
    if (ch === quote) return [name, i + 1];
    if (ch === '\\') {
      const escaped = text[i + 1];
      if (escaped !== '\\' && escaped !== "'" && escaped !== '"') throw fail(text, path, i, 'only \\\\, \\\' and \\" escapes are allowed');
      name += escaped;
      i += 2;
    } else {
      name += ch;
      i += 1;
    }
  }
  throw fail(text, path, start, 'unterminated quoted name');
}

/** Canonical text for a path: `.name` when the name allows it, `['...']` otherwise. */
export function formatJsonPath(segments: FieldPath): string {
  let out = '$';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (DOT_NAME.exec(segment)?.[0] === segment) out += `.${segment}`;
    else out += `['${segment.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}']`;
  }
  return out;
}

/** Follows `segments` through own properties of plain objects and array elements only. */
export function readPath(value: unknown, segments: FieldPath): unknown {
  let current: unknown = value;
  for (const segment of segments) {
    if (typeof segment === 'number') {
      if (!Array.isArray(current) || segment >= current.length) return MISSING;
      current = current[segment];
    } else {
      if (typeof current !== 'object' || current === null || Array.isArray(current)) return MISSING;
      if (!Object.hasOwn(current, segment)) return MISSING;
      current = (current as Record<string, unknown>)[segment];
    }
    if (current === undefined) return MISSING;
  }
  return current;
}

/** The last name segment, used as the default output field name for a path (`$.a.b[0]` -> `b`). */
export function lastName(segments: FieldPath): string | undefined {
  for (let i = segments.length - 1; i >= 0; i--) {
    const segment = segments[i];
    if (typeof segment === 'string') return segment;
  }
  return undefined;
}
