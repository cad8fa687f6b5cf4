/**
 * @module The rule engine's error catalog: every `FERRY_RULES_*` code, its 3000-3999 wire number, its HTTP
 * status (what the rule REST API answers) and a one-line doc. docs/errors.md lists every catalog.
 *
 * Numeric sub-ranges per layer (after eKuiper, which gives each layer a range):
 * 30xx rule objects and templates, 31xx SQL text, 32xx job lifecycle, 33xx snapshots, 34xx evaluation.
 */
import { defineErrors } from '@ferry/base';

const RULES = defineErrors(
  'FERRY_RULES_',
  [3000, 3999],
  {
    FERRY_RULES_FIELD_REQUIRED: { num: 3001, status: 400, doc: 'A required field of a rule object is missing.' },
    FERRY_RULES_FIELD_UNKNOWN: { num: 3002, status: 400, doc: 'A rule object carries a field its schema does not define.' },
    FERRY_RULES_FIELD_TYPE: { num: 3003, status: 400, doc: 'A field of a rule object has the wrong JSON type.' },
    FERRY_RULES_FIELD_VALUE: { num: 3004, status: 400, doc: 'A field has the right type but a value outside its allowed set or range.' },
    FERRY_RULES_TOPIC_INVALID: { num: 3005, status: 400, doc: 'A connector is not a valid MQTT topic name (output) or topic filter (input).' },
    FERRY_RULES_JSON_PATH: { num: 3006, status: 400, doc: "A field JSON path is outside the supported subset ($, .name, ['name'], [index])." },
    FERRY_RULES_JOB_TYPE_UNKNOWN: { num: 3007, status: 400, doc: 'headers.jobType names no rule template.' },
    FERRY_RULES_FEEDS_ITSELF: {
      num: 3008,
      status: 400,
      doc: "The rule's output topic matches its own input, or closes a loop through other jobs of the same engine.",
    },
    FERRY_RULES_SQL_SYNTAX: { num: 3101, status: 400, doc: 'The SQL-like text does not parse; the error carries the position and what was expected.' },
    FERRY_RULES_SQL_SEMANTIC: { num: 3102, status: 400, doc: 'The SQL-like text parses but does not describe a valid plan (e.g. aggregate without window).' },
    FERRY_RULES_PLAN_INVALID: { num: 3103, status: 400, doc: 'A logical plan breaks an invariant (duplicate output names, bad window sizes, ...).' },
    FERRY_RULES_INVALID_TRANSITION: { num: 3201, status: 409, doc: "A lifecycle command is not allowed in the job's current state." },
    FERRY_RULES_JOB_NOT_FOUND: { num: 3202, status: 404, doc: 'No job with this jobId is installed on this engine.' },
    FERRY_RULES_JOB_EXISTS: { num: 3203, status: 400, doc: 'A job with this jobId is already installed on this engine.' },
    FERRY_RULES_WRONG_RUNTIME: { num: 3204, status: 400, doc: 'The object is addressed to another runtime than this engine.' },
    FERRY_RULES_JOB_FAILED: { num: 3205, status: 400, doc: 'The job stopped itself after more consecutive evaluation errors than its limit.' },
    FERRY_RULES_LIMIT: {
      num: 3206,
      status: 422,
      doc: 'The job would pass a resource cap (join buffer, groups per window, outputs per input, alarm sources all raised); it is stopped at once.',
    },
    FERRY_RULES_TOO_MANY_JOBS: { num: 3207, status: 429, doc: 'The engine already holds its maximum number of jobs.' },
    FERRY_RULES_SNAPSHOT_INVALID: { num: 3301, status: 400, doc: 'A snapshot is malformed or of an unsupported format version.' },
    FERRY_RULES_SNAPSHOT_MISMATCH: { num: 3302, status: 400, doc: 'A snapshot was taken from a job with a different plan.' },
    FERRY_RULES_EVAL_FIELD_MISSING: { num: 3401, status: 400, doc: 'A record lacks a field the rule reads.' },
    FERRY_RULES_EVAL_TYPE: { num: 3402, status: 400, doc: 'A record field has a type the rule cannot use (non-numeric aggregate input, incomparable values).' },
    FERRY_RULES_EVAL_OVERFLOW: { num: 3403, status: 400, doc: 'An aggregate would leave the finite double range.' },
    FERRY_RULES_EVAL_INPUT: { num: 3404, status: 400, doc: 'A pushed input is unusable (timestamp not finite, join record not plain JSON).' },
    FERRY_RULES_EVAL_UNEXPECTED: {
      num: 3405,
      status: 500,
      doc: 'An operator threw something other than a RuleError (a bug); counted like any evaluation error.',
    },
  },
  { package: '@ferry/rules', errorName: 'RuleError', codeInMessage: false },
);

export const RULE_ERRORS = RULES.codes;
export type RuleErrorCode = keyof typeof RULE_ERRORS;

/** 1-based line/column (UTF-16 code units) and 0-based offset of the offending SQL token. */
export type SourcePosition = { readonly offset: number; readonly line: number; readonly column: number };

export type RuleErrorDetails = {
  /** JSON path of the offending field, e.g. `jobConfig.jobProps.threshold`. */
  readonly path?: string;
  /** Position in SQL text, for FERRY_RULES_SQL_* errors. */
  readonly position?: SourcePosition;
};

/**
 * The only error type the package throws; hosts answer `status`, and put `path`/`position` into responses.
 * The message is the reason alone (no code prefix): the code travels beside it.
 */
export class RuleError extends RULES.Error {
  readonly position: SourcePosition | undefined;

  constructor(code: RuleErrorCode, message: string, details: RuleErrorDetails = {}) {
    super(code, message, { path: details.path });
    this.position = details.position;
  }

  /**
   * Plain JSON for REST bodies and logs. The wire number is named `numeric` here, as in the job snapshots'
   * error info (a format other runtimes read back), so every rule API body keeps one shape.
   */
  override toJSON(): { code: RuleErrorCode; numeric: number; message: string; path?: string; position?: SourcePosition } {
    return {
      code: this.code,
      numeric: this.num,
      message: this.message,
      ...(this.path === undefined ? {} : { path: this.path }),
      ...(this.position === undefined ? {} : { position: this.position }),
    };
  }
}

export function isRuleError(value: unknown): value is RuleError {
  return value instanceof RuleError;
}
