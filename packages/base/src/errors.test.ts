/** @module defineErrors: typed catalogs, their error class, ok/fail, load-time checks and the registry. */
import { describe, expect, it } from 'vitest';
import { CatalogError, defineErrors, err, errorCatalogs, isCatalogError, ok, type Result } from './errors.ts';

const DEMO = defineErrors(
  'FERRY_TESTDEMO_',
  [9900, 9949],
  {
    FERRY_TESTDEMO_BAD: { num: 9901, status: 400, doc: 'the input is bad' },
    FERRY_TESTDEMO_GONE: { num: 9902, status: 404, doc: 'the thing is gone' },
  },
  { package: '@ferry/base', errorName: 'DemoError' },
);

class DemoError extends DEMO.Error {}

class DetailedError extends DEMO.Error {
  readonly details: readonly string[];
  constructor(code: keyof typeof DEMO.codes, detail: string, details: readonly string[] = []) {
    super(code, detail);
    this.details = details;
  }
  override toJSON() {
    return { ...super.toJSON(), details: this.details };
  }
}

describe('defineErrors', () => {
  it('builds errors carrying code, number, HTTP status, name and a message naming the code', () => {
    const e = new DemoError('FERRY_TESTDEMO_GONE', 'no such thing');
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(CatalogError);
    expect(isCatalogError(e)).toBe(true);
    expect(isCatalogError(new Error('x'))).toBe(false);
    expect([e.code, e.num, e.status, e.name, e.message]).toEqual(['FERRY_TESTDEMO_GONE', 9902, 404, 'DemoError', 'FERRY_TESTDEMO_GONE: no such thing']);
    expect(JSON.parse(JSON.stringify(e))).toEqual({ code: 'FERRY_TESTDEMO_GONE', num: 9902, message: 'FERRY_TESTDEMO_GONE: no such thing' });
  });

  it('keeps a cause, and lets a subclass add fields to the error and its JSON', () => {
    const cause = new Error('disk');
    expect(new DEMO.Error('FERRY_TESTDEMO_BAD', 'x', { cause }).cause).toBe(cause);
    const d = new DetailedError('FERRY_TESTDEMO_BAD', 'x', ['FERRY_ABI_TRAP']);
    expect(d.toJSON()).toEqual({ code: 'FERRY_TESTDEMO_BAD', num: 9901, message: 'FERRY_TESTDEMO_BAD: x', details: ['FERRY_ABI_TRAP'] });
  });

  it('names the offending field as path, in the error and its JSON, only when given', () => {
    const e = new DemoError('FERRY_TESTDEMO_BAD', 'not a number', { path: 'condition.threshold' });
    expect(e.path).toBe('condition.threshold');
    expect(JSON.parse(JSON.stringify(e))).toEqual({
      code: 'FERRY_TESTDEMO_BAD',
      num: 9901,
      message: 'FERRY_TESTDEMO_BAD: not a number',
      path: 'condition.threshold',
    });
    expect('path' in new DemoError('FERRY_TESTDEMO_BAD', 'x').toJSON()).toBe(false);
  });

  it('can leave the code out of the message', () => {
    const bare = defineErrors(
      'FERRY_TESTBARE_',
      [9950, 9959],
      { FERRY_TESTBARE_X: { num: 9951, status: 409, doc: 'x' } },
      { package: '@ferry/base', errorName: 'BareError', codeInMessage: false },
    );
    expect(new bare.Error('FERRY_TESTBARE_X', 'just the reason').message).toBe('just the reason');
  });

  it('gives ok/fail typed to the catalog, and the shared Result helpers', () => {
    const r: Result<number, CatalogError<keyof typeof DEMO.codes>> = DEMO.fail('FERRY_TESTDEMO_BAD', 'nope');
    expect(r.ok).toBe(false);
    if (!r.ok) expect([r.error.code, r.error.status]).toEqual(['FERRY_TESTDEMO_BAD', 400]);
    expect(DEMO.ok(3)).toEqual({ ok: true, value: 3 });
    expect(ok('v')).toEqual({ ok: true, value: 'v' });
    expect(err(new DemoError('FERRY_TESTDEMO_BAD', 'y')).ok).toBe(false);
    // A code of another catalog, or of none, is refused at compile time (and at run time, for untyped callers).
    // @ts-expect-error FERRY_MSG_BAD_SIGNATURE is not a FERRY_TESTDEMO_ code
    expect(() => DEMO.fail('FERRY_MSG_BAD_SIGNATURE', 'x')).toThrow(/not a code of the FERRY_TESTDEMO_\* catalog/);
    // @ts-expect-error nor is FERRY_TESTDEMO_NOPE
    expect(() => new DemoError('FERRY_TESTDEMO_NOPE', 'x')).toThrow(TypeError);
  });

  it('maps numbers back to codes and recognises its own codes', () => {
    expect(DEMO.codeOf(9902)).toBe('FERRY_TESTDEMO_GONE');
    expect(DEMO.codeOf(9903)).toBeUndefined();
    expect(DEMO.has('FERRY_TESTDEMO_BAD')).toBe(true);
    expect(DEMO.has('FERRY_TESTDEMO_')).toBe(false);
    expect(DEMO.has('toString')).toBe(false);
  });

  it('refuses at load time a code without the prefix, a number outside the range or used twice, a non-error status, a missing doc', () => {
    const o = { package: '@ferry/base', errorName: 'X' };
    expect(() => defineErrors('FERRY_TESTBAD_', [9960, 9969], { FERRY_OTHER_X: { num: 9961, status: 400, doc: 'd' } }, o)).toThrow(
      /FERRY_OTHER_X is not FERRY_TESTBAD_<WHAT>/,
    );
    expect(() => defineErrors('FERRY_TESTBAD_', [9960, 9969], { FERRY_TESTBAD_X: { num: 9970, status: 400, doc: 'd' } }, o)).toThrow(/outside 9960-9969/);
    expect(() =>
      defineErrors(
        'FERRY_TESTBAD_',
        [9960, 9969],
        { FERRY_TESTBAD_X: { num: 9961, status: 400, doc: 'd' }, FERRY_TESTBAD_Y: { num: 9961, status: 400, doc: 'd' } },
        o,
      ),
    ).toThrow(/reuses 9961/);
    expect(() => defineErrors('FERRY_TESTBAD_', [9960, 9969], { FERRY_TESTBAD_X: { num: 9961, status: 200, doc: 'd' } }, o)).toThrow(
      /not an HTTP error status/,
    );
    expect(() => defineErrors('FERRY_TESTBAD_', [9960, 9969], { FERRY_TESTBAD_X: { num: 9961, status: 400, doc: ' ' } }, o)).toThrow(/one-line doc/);
    expect(() => defineErrors('TESTBAD_', [9960, 9969], {}, o)).toThrow(/not FERRY_<AREA>_/);
    expect(errorCatalogs().some((c) => c.prefix === 'FERRY_TESTBAD_')).toBe(false);
  });

  it('registers every catalog it defines, ordered by range', () => {
    const demo = errorCatalogs().find((c) => c.prefix === 'FERRY_TESTDEMO_');
    expect(demo).toMatchObject({ package: '@ferry/base', errorName: 'DemoError', range: [9900, 9949] });
    expect(Object.keys(demo!.codes)).toEqual(['FERRY_TESTDEMO_BAD', 'FERRY_TESTDEMO_GONE']);
    const starts = errorCatalogs().map((c) => c.range[0]);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
  });
});
