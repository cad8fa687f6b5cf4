/**
 * @module The FERRY_FN_* catalog of the function-call contract (4000-4499): every way a host refuses or fails
 * a function call, an upload, a token or a schedule has one code, one number and one HTTP status (what the
 * cloud's routes answer). The cloud's function service and a board's local run
 * (firmware/emulator/local-function.ts) share it, so one failure has one code wherever it ran.
 * docs/errors.md lists every catalog. Nothing throws these: they are returned (FnResult).
 */
import { defineErrors } from '@ferry/base';

const FN = defineErrors(
  'FERRY_FN_',
  [4000, 4499],
  {
    FERRY_FN_BAD_REQUEST: {
      num: 4001,
      status: 400,
      doc: 'the request is malformed: hash not 64 lower-case hex digits, bad namespace or export name, args not an array',
    },
    FERRY_FN_MODULE_NEEDED: { num: 4002, status: 404, doc: 'no module with this hash is stored: upload its bytes once, then retry the call' },
    FERRY_FN_MODULE_INVALID: {
      num: 4003,
      status: 400,
      doc: 'the uploaded bytes are not a valid function module (malformed, a non-ABI import, no abi_version, wrong ABI version); `details` lists every FERRY_ABI_* problem',
    },
    FERRY_FN_MODULE_TOO_LARGE: { num: 4004, status: 413, doc: "the module is larger than the registry's size limit" },
    FERRY_FN_MEMORY_EXCEEDED: {
      num: 4005,
      status: 422,
      doc: "the module declares no memory maximum or one above the namespace's page quota, or a call ran out of memory (trapped at its maximum after growing, or its worker hit the heap limit)",
    },
    FERRY_FN_NO_SUCH_EXPORT: { num: 4006, status: 404, doc: 'the module exports no function with that name' },
    FERRY_FN_BAD_ARGS: {
      num: 4007,
      status: 400,
      doc: "the args do not match the export's wasm signature (count, or a value that is not an i32/i64/f32/f64; i64 as a decimal string or bigint)",
    },
    FERRY_FN_TRAP: {
      num: 4008,
      status: 422,
      doc: 'the function trapped or aborted (unreachable, out-of-bounds access, sys.abort, bad pointer); its state writes are discarded',
    },
    FERRY_FN_TIMEOUT: {
      num: 4009,
      status: 504,
      doc: 'the function ran past its CPU deadline; its worker was terminated and replaced, its state writes discarded',
    },
    FERRY_FN_BUSY: { num: 4010, status: 429, doc: "the worker pool's queue is full, or the runner is closed; retry later" },
    FERRY_FN_UNAVAILABLE: {
      num: 4011,
      status: 503,
      doc: "the cloud could not read or write its stored state (disk full, I/O error); the call's writes were not committed; retry later",
    },
    FERRY_FN_QUOTA: { num: 4012, status: 403, doc: "the owner's quota is used up: modules uploaded (count or total bytes) or schedules; nothing was stored" },
    FERRY_FN_BAD_TOKEN: {
      num: 4101,
      status: 401,
      doc: 'the token is malformed, names an unknown owner, or its signature does not verify (altered, widened, or signed with another key)',
    },
    FERRY_FN_TOKEN_EXPIRED: { num: 4102, status: 401, doc: "the public token's exp is in the past" },
    FERRY_FN_TOKEN_REVOKED: { num: 4103, status: 401, doc: "the public token's jti is on the revocation list" },
    FERRY_FN_FORBIDDEN_NAMESPACE: { num: 4104, status: 403, doc: 'the public token does not list this namespace' },
    FERRY_FN_NOT_WHITELISTED: { num: 4105, status: 403, doc: "the hash is not on the namespace's white-list, or not among the token's allowed functions" },
    FERRY_FN_RATE_LIMITED: { num: 4106, status: 429, doc: "the token's call rate (token bucket: calls per second, burst) is used up; retry later" },
    FERRY_FN_BAD_PERMISSIONS: {
      num: 4107,
      status: 400,
      doc: 'a public token cannot be minted with these permissions (empty or malformed namespaces, functions, rate, schedule, ttl)',
    },
    FERRY_FN_OWNER_EXISTS: { num: 4108, status: 409, doc: 'an owner with this id is already registered (with another private token)' },
    FERRY_FN_SCHEDULE_FORBIDDEN: { num: 4201, status: 403, doc: 'the token allows no schedules, or the period is shorter than its minimum period' },
    FERRY_FN_SCHEDULE_INVALID: {
      num: 4202,
      status: 400,
      doc: 'the schedule is malformed: period not a positive integer of seconds, write_to not a valid state key',
    },
    FERRY_FN_NO_SUCH_SCHEDULE: { num: 4203, status: 404, doc: 'no schedule with this id belongs to this owner' },
  },
  { package: '@ferry/wasm-host', errorName: 'FnError' },
);

export const FN_ERRORS = FN.codes;
export type FnErrorCode = keyof typeof FN_ERRORS;

/** The only error type of a function call; `details` carries underlying codes (FERRY_ABI_*, FERRY_MSG_*). */
export class FnError extends FN.Error {
  readonly details: readonly string[];

  constructor(code: FnErrorCode, detail: string, details: readonly string[] = []) {
    super(code, detail);
    this.details = details;
  }

  /** Plain JSON for replies: `{code, num, message}`, and `details` when there are any. */
  override toJSON(): { code: FnErrorCode; num: number; message: string; details?: readonly string[] } {
    return { code: this.code, num: this.num, message: this.message, ...(this.details.length === 0 ? {} : { details: this.details }) };
  }
}

export type FnResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: FnError };

export const fnOk = <T>(value: T): FnResult<T> => ({ ok: true, value });
export const fnFail = <T = never>(code: FnErrorCode, detail: string, details?: readonly string[]): FnResult<T> => ({
  ok: false,
  error: new FnError(code, detail, details),
});
