/**
 * @module The one error-catalog helper. Every way a Ferry component can refuse or fail has one code
 * (FERRY_<AREA>_<WHAT>), one wire number inside its catalog's range, one HTTP status (what a REST route
 * answers with) and a one-line meaning. `defineErrors` turns such a table into a typed catalog, an error
 * class and `ok`/`fail` helpers whose codes are the catalog's own; each catalog registers itself so that
 * one test can check every catalog against docs/errors.md, which lists them all.
 */

/** One code of a catalog. */
export interface ErrorSpec {
  /** Wire number, inside the catalog's range; never reused for another meaning. */
  readonly num: number;
  /** HTTP status a REST route answers with when it returns this code. */
  readonly status: number;
  /** One line: what went wrong and what happens next (docs/errors.md shows it verbatim). */
  readonly doc: string;
}

/** A success carrying a value, or a failure carrying a typed error: for code that never throws on bad input. */
export type Result<T, E> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export const ok = <T>(value: T): { readonly ok: true; readonly value: T } => ({ ok: true, value });
export const err = <E>(error: E): { readonly ok: false; readonly error: E } => ({ ok: false, error });

/** The JSON form of an error: `{code, num, message}` plus what a catalog adds. */
export type ErrorBody<C extends string = string> = { readonly code: C; readonly message: string } & { readonly [field: string]: unknown };

/** What the registry knows of a catalog; docs/errors.md has one section per catalog. */
export interface ErrorCatalog<C extends string = string> {
  /** The workspace package that owns the catalog, e.g. `@ferry/message`. */
  readonly package: string;
  /** Name of the catalog's error class (the errors' `name`), e.g. `MessageError`. */
  readonly errorName: string;
  /** Every code starts with it, e.g. `FERRY_MSG_`. */
  readonly prefix: string;
  /** Inclusive bounds of the wire numbers; ranges of different catalogs never overlap. */
  readonly range: readonly [number, number];
  readonly codes: { readonly [K in C]: ErrorSpec };
  /** The code a wire number stands for, if it is one of this catalog's. */
  codeOf(num: number): C | undefined;
  /** Whether a string is one of this catalog's codes. */
  has(code: string): code is C;
}

/** Options of a catalog error: its cause, and the field of a request body or query it refuses, if one. */
export interface CatalogErrorOptions extends ErrorOptions {
  /** The offending field's path (`condition.threshold`) or query parameter (`points`); answered as `path`. */
  readonly path?: string | undefined;
}

/**
 * Base class of every catalog error: `code`, `num` (wire number), `status` (HTTP), and `path` when it names
 * the offending field. Error fields are not enumerable, hence `toJSON` for REST bodies and logs.
 */
export class CatalogError<C extends string = string> extends Error {
  readonly code: C;
  readonly num: number;
  readonly status: number;
  readonly path: string | undefined;

  constructor(catalog: ErrorCatalog<C>, code: C, message: string, options?: CatalogErrorOptions) {
    super(message, options);
    const spec = catalog.has(code) ? catalog.codes[code] : undefined;
    if (spec === undefined) throw new TypeError(`${String(code)} is not a code of the ${catalog.prefix}* catalog`);
    this.name = catalog.errorName;
    this.code = code;
    this.num = spec.num;
    this.status = spec.status;
    this.path = options?.path;
  }

  toJSON(): ErrorBody<C> {
    return { code: this.code, num: this.num, message: this.message, ...(this.path !== undefined && { path: this.path }) };
  }
}

export const isCatalogError = (value: unknown): value is CatalogError => value instanceof CatalogError;

export interface CatalogOptions {
  /** The workspace package that owns the catalog. */
  readonly package: string;
  /** Name of the error class, e.g. `MessageError`. */
  readonly errorName: string;
  /**
   * Whether an error's message starts with its code (`FERRY_MSG_SEGMENTS: <detail>`, the default, so a
   * logged message names its code), or is the detail alone.
   */
  readonly codeInMessage?: boolean;
}

/** The catalog, its error class and its helpers, as `defineErrors` returns them. */
export type DefinedErrors<T extends Record<string, ErrorSpec>> = Omit<ErrorCatalog<keyof T & string>, 'codes'> & {
  /** The table as written, literal types kept (so `CATALOG.codes.FERRY_X.num` is a number literal). */
  readonly codes: T;
  /** The catalog's error class; a package may extend it to add fields (keep the constructor's first two parameters). */
  readonly Error: new (
    code: keyof T & string,
    detail: string,
    options?: CatalogErrorOptions,
  ) => CatalogError<keyof T & string>;
  readonly ok: <V>(value: V) => Result<V, CatalogError<keyof T & string>>;
  /** A failure with one of this catalog's codes, and no other. */
  readonly fail: <V = never>(code: keyof T & string, detail: string, options?: CatalogErrorOptions) => Result<V, CatalogError<keyof T & string>>;
};

const registry = new Map<string, ErrorCatalog>();

/** Every catalog defined so far (a catalog registers itself when its module is loaded), ordered by range. */
export function errorCatalogs(): readonly ErrorCatalog[] {
  return [...registry.values()].sort((a, b) => a.range[0] - b.range[0]);
}

/**
 * Defines a catalog. Checks at load time that every code starts with `prefix`, every number is an integer
 * inside `range` and used once, and every status is an HTTP error status (400-599); a mistake fails the
 * import of the package, so no test run can miss it. Overlaps between catalogs are for the registry test.
 */
export function defineErrors<const T extends Record<string, ErrorSpec>>(
  prefix: string,
  range: readonly [number, number],
  table: T,
  options: CatalogOptions,
): DefinedErrors<T> {
  type C = keyof T & string;
  const problems = checkTable(prefix, range, table);
  if (problems.length > 0) throw new TypeError(`error catalog ${prefix}*: ${problems.join('; ')}`);
  const byNum = new Map<number, C>(Object.entries(table).map(([code, spec]) => [spec.num, code as C]));
  const catalog: ErrorCatalog<C> = {
    package: options.package,
    errorName: options.errorName,
    prefix,
    range: [range[0], range[1]],
    codes: table,
    codeOf: (num) => byNum.get(num),
    has: (code): code is C => Object.hasOwn(table, code),
  };
  const withCode = options.codeInMessage !== false;
  class BoundError extends CatalogError<C> {
    constructor(code: C, detail: string, errorOptions?: CatalogErrorOptions) {
      super(catalog, code, withCode ? `${code}: ${detail}` : detail, errorOptions);
    }
  }
  // A module loaded twice (two resolutions of one file) defines the same catalog again: keep the first.
  if (!registry.has(prefix)) registry.set(prefix, catalog as ErrorCatalog);
  return {
    ...catalog,
    codes: table,
    Error: BoundError,
    ok: (value) => ({ ok: true, value }),
    fail: (code, detail, errorOptions) => ({ ok: false, error: new BoundError(code, detail, errorOptions) }),
  };
}

function checkTable(prefix: string, range: readonly [number, number], table: Record<string, ErrorSpec>): string[] {
  const problems: string[] = [];
  if (!/^FERRY_[A-Z0-9_]*_$/.test(prefix)) problems.push(`prefix ${prefix} is not FERRY_<AREA>_`);
  if (!(Number.isInteger(range[0]) && Number.isInteger(range[1]) && range[0] <= range[1]))
    problems.push(`range ${range.join('-')} is not two ordered integers`);
  const seen = new Map<number, string>();
  for (const [code, spec] of Object.entries(table)) {
    if (!code.startsWith(prefix) || !/^[A-Z0-9_]+[A-Z0-9]$/.test(code)) problems.push(`${code} is not ${prefix}<WHAT>`);
    if (!Number.isInteger(spec.num) || spec.num < range[0] || spec.num > range[1])
      problems.push(`${code} number ${spec.num} is outside ${range[0]}-${range[1]}`);
    const other = seen.get(spec.num);
    if (other !== undefined) problems.push(`${code} reuses ${spec.num} of ${other}`);
    seen.set(spec.num, code);
    if (!Number.isInteger(spec.status) || spec.status < 400 || spec.status > 599) problems.push(`${code} status ${spec.status} is not an HTTP error status`);
    if (spec.doc.trim() === '' || spec.doc.includes('\n')) problems.push(`${code} needs a one-line doc`);
  }
  return problems;
}
