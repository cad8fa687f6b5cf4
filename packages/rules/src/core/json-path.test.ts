/**
 * @module The JSON path subset: examples, errors, and properties (format/parse round trip, reads find what was placed).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RuleError } from './errors.ts';
import { formatJsonPath, lastName, MISSING, parseJsonPath, readPath } from './json-path.ts';
import type { PathSegment } from './json-path.ts';

describe('parseJsonPath', () => {
  it.each([
    ['$', []],
    ['$.a.b[0]', ['a', 'b', 0]],
    ["$['room name'].t", ['room name', 't']],
    ['$["x\\"y"][12]', ['x"y', 12]],
    ['$.$id._x9', ['$id', '_x9']],
  ] as [string, PathSegment[]][])('%s', (text, segments) => {
    expect(parseJsonPath(text, 'p')).toEqual(segments);
  });

  it.each([
    ['a.b', 'must start with $'],
    ['$.', 'expected a name'],
    ['$.9a', 'expected a name'],
    ['$[-1]', 'non-negative integer'],
    ['$[01]', 'non-negative integer'],
    ['$[*]', 'non-negative integer'],
    ['$..a', 'expected a name'],
    ["$['a", 'unterminated'],
    ["$['a'", 'expected ]'],
    ['$a', 'expected . or ['],
    ["$['\\n']", 'escapes'],
    ['$[2000000]', 'index above'],
  ])('rejects %j (%s) with the field path', (text, reason) => {
    let caught: unknown;
    try {
      parseJsonPath(text, 'jobConfig.jobProps.fieldJsonPath');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RuleError);
    expect(caught).toMatchObject({ code: 'FERRY_RULES_JSON_PATH', path: 'jobConfig.jobProps.fieldJsonPath' });
    expect((caught as RuleError).message).toContain(reason);
  });

  it('bounds length and depth', () => {
    expect(() => parseJsonPath(`$${'.a'.repeat(33)}`, 'p')).toThrow(/more than 32 segments/);
    expect(() => parseJsonPath(`$.${'a'.repeat(2000)}`, 'p')).toThrow(/longer than 1024/);
  });
});

describe('readPath', () => {
  const record = { a: { b: [10, { c: null }] }, 'x y': 1 };

  it('reads own properties and array elements', () => {
    expect(readPath(record, ['a', 'b', 0])).toBe(10);
    expect(readPath(record, ['a', 'b', 1, 'c'])).toBeNull();
    expect(readPath(record, ['x y'])).toBe(1);
    expect(readPath(record, [])).toBe(record);
  });

  it('returns MISSING for absent fields, wrong containers and prototype keys', () => {
    expect(readPath(record, ['nope'])).toBe(MISSING);
    expect(readPath(record, ['a', 'b', 5])).toBe(MISSING);
    expect(readPath(record, ['a', 0])).toBe(MISSING);
    expect(readPath(record, ['a', 'b', 'length'])).toBe(MISSING);
    expect(readPath(record, ['constructor'])).toBe(MISSING);
    expect(readPath(record, ['__proto__'])).toBe(MISSING);
    expect(readPath(42, ['a'])).toBe(MISSING);
  });

  it('names the last name segment', () => {
    expect(lastName(['a', 'b', 0])).toBe('b');
    expect(lastName([0])).toBeUndefined();
  });
});

const segment: fc.Arbitrary<PathSegment> = fc.oneof(fc.string({ maxLength: 6 }), fc.nat(20));
const segments = fc.array(segment, { maxLength: 6 });

/** Builds a value in which `path` leads to `leaf`. */
function place(path: readonly PathSegment[], leaf: unknown): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return leaf;
  if (typeof head === 'number') {
    const array: unknown[] = Array.from({ length: head + 1 }, () => null);
    array[head] = place(rest, leaf);
    return array;
  }
  return Object.defineProperty({}, head, { value: place(rest, leaf), enumerable: true, writable: true, configurable: true });
}

describe('properties', () => {
  it('parse(format(path)) is the path', () => {
    fc.assert(
      fc.property(segments, (path) => {
        expect(parseJsonPath(formatJsonPath(path), 'p')).toEqual(path);
      }),
    );
  });

  it('reading a formatted path finds the value placed there', () => {
    fc.assert(
      fc.property(segments, fc.jsonValue(), (path, leaf) => {
        const value = readPath(place(path, leaf), parseJsonPath(formatJsonPath(path), 'p'));
        expect(value).toEqual(leaf === undefined ? MISSING : leaf);
      }),
    );
  });

  it('any text either parses (and re-formats to an equivalent path) or throws FERRY_RULES_JSON_PATH', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((text) => `$${text}`),
        ),
        (text) => {
          try {
            const parsed = parseJsonPath(text, 'p');
            expect(parseJsonPath(formatJsonPath(parsed), 'p')).toEqual(parsed);
          } catch (error) {
            expect(error).toBeInstanceOf(RuleError);
            expect((error as RuleError).code).toBe('FERRY_RULES_JSON_PATH');
          }
        },
      ),
    );
  });
});
