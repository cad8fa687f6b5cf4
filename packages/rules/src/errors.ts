/**
 * @module The rule engine's error catalog: every `FERRY_RULES_*` code, its 3xxx wire number and a one-line doc.
 *
 * Numeric sub-ranges per layer (after eKuiper, which gives each layer a range):
 * 30xx rule objects and templates, 31xx SQL text, 32xx job lifecycle, 33xx snapshots, 34xx evaluation.
 */

export const RULE_ERRORS = {
  FERRY_RULES_FIELD_REQUIRED: { numeric: 3001, doc: 'A required field of a rule object is missing.' },
  FERRY_RULES_FIELD_UNKNOWN: { numeric: 3002, doc: 'A rule object carries a field its schema does not define.' },
  FERRY_RULES_FIELD_TYPE: { numeric: 3003, doc: 'A field of a rule object has the wrong JSON type.' },
  FERRY_RULES_FIELD_VALUE: { numeric: 3004, doc: 'A field has the right type but a value outside its allowed set or range.' },
  FERRY_RULES_TOPIC_INVALID: { numeric: 3005, doc: 'A connector is not a valid MQTT topic name (output) or topic filter (input).' },
  FERRY_RULES_JSON_PATH: { numeric: 3006, doc: 'A field JSON path is outside the supported subset ($, .name, [\'name\'], [index]).' },
  FERRY_RULES_JOB_TYPE_UNKNOWN: { numeric: 3007, doc: 'headers.jobType names no rule template.' },
  FERRY_RULES_FEEDS_ITSELF: { numeric: 3008, doc: 'The rule\'s output topic matches its own input, or closes a loop through other jobs of the same engine.' },
  FERRY_RULES_SQL_SYNTAX: { numeric: 3101, doc: 'The SQL-like text does not parse; the error carries the position and what was expected.' },
  FERRY_RULES_SQL_SEMANTIC: { numeric: 3102, doc: 'The SQL-like text parses but does not describe a valid plan (e.g. aggregate without window).' },
  FERRY_RULES_PLAN_INVALID: { numeric: 3103, doc: 'A logical plan breaks an invariant (duplicate output names, bad window sizes, ...).' },
  FERRY_RULES_INVALID_TRANSITION: { numeric: 3201, doc: 'A lifecycle command is not allowed in the job\'s current state.' },
  FERRY_RULES_JOB_NOT_FOUND: { numeric: 3202, doc: 'No job with this jobId is installed on this engine.' },
  FERRY_RULES_JOB_EXISTS: { numeric: 3203, doc: 'A job with this jobId is already installed on this engine.' },
  FERRY_RULES_WRONG_RUNTIME: { numeric: 3204, doc: 'The object is addressed to another runtime than this engine.' },
  FERRY_RULES_JOB_FAILED: { numeric: 3205, doc: 'The job stopped itself after more consecutive evaluation errors than its limit.' },
  FERRY_RULES_LIMIT: { numeric: 3206, doc: 'The job would pass a resource cap (join buffer, groups per window, outputs per input); it is stopped at once.' },
  FERRY_RULES_TOO_MANY_JOBS: { numeric: 3207, doc: 'The engine already holds its maximum number of jobs.' },
  FERRY_RULES_SNAPSHOT_INVALID: { numeric: 3301, doc: 'A snapshot is malformed or of an unsupported format version.' },
  FERRY_RULES_SNAPSHOT_MISMATCH: { numeric: 3302, doc: 'A snapshot was taken from a job with a different plan.' },
  FERRY_RULES_EVAL_FIELD_MISSING: { numeric: 3401, doc: 'A record lacks a field the rule reads.' },
  FERRY_RULES_EVAL_TYPE: { numeric: 3402, doc: 'A record field has a type the rule cannot use (non-numeric aggregate input, incomparable values).' },
  FERRY_RULES_EVAL_OVERFLOW: { numeric: 3403, doc: 'An aggregate would leave the finite double range.' },
  FERRY_RULES_EVAL_INPUT: { numeric: 3404, doc: 'A pushed input is unusable (timestamp not finite, join record not plain JSON).' },
  FERRY_RULES_EVAL_UNEXPECTED: { numeric: 3405, doc: 'An operator threw something other than a RuleError (a bug); counted like any evaluation error.' },
} as const satisfies Record<string, { numeric: number; doc: string }>;

export type RuleErrorCode = keyof typeof RULE_ERRORS;

/** 1-based line/column (UTF-16 code units) and 0-based offset of the offending SQL token. */
export type SourcePosition = { readonly offset: number; readonly line: number; readonly column: number };

export type RuleErrorDetails = {
  /** JSON path of the offending field, e.g. `jobConfig.jobProps.threshold`. */
  readonly path?: string;
  /** Position in SQL text, for FERRY_RULES_SQL_* errors. */
  readonly position?: SourcePosition;
};

/** The only error type the package throws; hosts map `numeric` onto the wire and `path`/`position` into responses. */
export class RuleError extends Error {
  readonly code: RuleErrorCode;
  readonly numeric: number;
  readonly path: string | undefined;
  readonly position: SourcePosition | undefined;

  constructor(code: RuleErrorCode, message: string, details: RuleErrorDetails = {}) {
    super(message);
    this.name = 'RuleError';
    this.code = code;
    this.numeric = RULE_ERRORS[code].numeric;
    this.path = details.path;
    this.position = details.position;
  }

  /** Plain JSON form for REST bodies and logs (Error fields are not enumerable). */
  toJSON(): { code: RuleErrorCode; numeric: number; message: string; path?: string; position?: SourcePosition } {
    return {
      code: this.code,
      numeric: this.numeric,
      message: this.message,
      ...(this.path === undefined ? {} : { path: this.path }),
      ...(this.position === undefined ? {} : { position: this.position }),
    };
  }
}

export function isRuleError(value: unknown): value is RuleError {
  return value instanceof RuleError;
}
