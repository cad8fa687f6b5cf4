/**
 * @module The composite-stream engine's error catalog: every `FERRY_COMPOSE_*` code, its 7400-7499 wire
 * number, its HTTP status and a one-line doc. docs/errors.md lists every catalog; docs/composite-streams.md
 * says when each code occurs.
 *
 * Sub-ranges: 740x documents and references, 741x expressions, 742x sensor updates, 743x run time and
 * ports, 744x tenancy, 745x snapshots, 746x hosting (the
 * cloud's routes: rates, quotas, requests).
 */
import { type CatalogError, defineErrors } from '@ferry/base';

const COMPOSE = defineErrors(
  'FERRY_COMPOSE_',
  [7400, 7499],
  {
    FERRY_COMPOSE_DOCUMENT: {
      num: 7401,
      status: 400,
      doc: 'a service-object document is not an object of the 0.1.0 or 0.2.0 shape (a field missing, unknown or of the wrong JSON type)',
    },
    FERRY_COMPOSE_REFERENCE: { num: 7402, status: 400, doc: 'an expression names a stream, group, group member or function input that does not exist' },
    FERRY_COMPOSE_CYCLE: { num: 7403, status: 400, doc: "the streams' references close a loop (a stream reading its own previous output is allowed)" },
    FERRY_COMPOSE_LIMIT: { num: 7404, status: 400, doc: 'the topology would pass a documented limit: depth, fan-in, streams per object, channels per stream' },
    FERRY_COMPOSE_TYPE: { num: 7405, status: 400, doc: 'a channel declares a type the engine does not know, or a value does not have its channel type' },
    FERRY_COMPOSE_EXISTS: { num: 7406, status: 409, doc: 'a service object with this id is already installed' },
    FERRY_COMPOSE_NOT_FOUND: { num: 7407, status: 404, doc: 'no service object or stream with this id is installed' },
    FERRY_COMPOSE_IN_USE: { num: 7408, status: 409, doc: "another service object's composite stream reads this one; delete that first" },
    FERRY_COMPOSE_SYNTAX: {
      num: 7411,
      status: 400,
      doc: 'an expression or template does not parse; the error names the stream, the channel and the position',
    },
    FERRY_COMPOSE_EXPR_FORBIDDEN: {
      num: 7412,
      status: 400,
      doc: 'an expression uses something outside the fast-path subset: an unknown identifier or method, a property outside its inputs, a call that is not white-listed',
    },
    FERRY_COMPOSE_TOO_LARGE: { num: 7413, status: 413, doc: 'an expression, function source or value is larger than its documented limit' },
    FERRY_COMPOSE_BUDGET: { num: 7414, status: 422, doc: 'an evaluation used up its step budget; counted as an error of the stream, nothing is emitted' },
    FERRY_COMPOSE_RUNTIME_TYPE: {
      num: 7415,
      status: 422,
      doc: 'an evaluation met a value of the wrong type (a method on a number, an index into a non-array); counted, nothing is emitted',
    },
    FERRY_COMPOSE_UPDATE: {
      num: 7421,
      status: 400,
      doc: 'a sensor update is malformed: not {channels, lastUpdate}, an unknown channel, or a value that is not a number, boolean, string or array of them',
    },
    FERRY_COMPOSE_NOT_SIMPLE: { num: 7422, status: 400, doc: 'a sensor update was sent to a composite stream; only simple streams are fed from outside' },
    FERRY_COMPOSE_NO_RUNNER: { num: 7431, status: 501, doc: 'a channel needs a JavaScript or wasm runner this host was not given' },
    FERRY_COMPOSE_RUNNER: {
      num: 7432,
      status: 422,
      doc: 'a JavaScript function or wasm function failed (trap, timeout, out of memory, bad result); counted, nothing is emitted',
    },
    FERRY_COMPOSE_FORBIDDEN: {
      num: 7441,
      status: 403,
      doc: "a composite reads another owner's stream without a grant from that owner, or the grant was revoked",
    },
    FERRY_COMPOSE_SNAPSHOT: {
      num: 7451,
      status: 400,
      doc: 'a snapshot is malformed, of another format version, or names streams the installed object does not have',
    },
    FERRY_COMPOSE_RATE_LIMITED: {
      num: 7461,
      status: 429,
      doc: "more sensor updates per second than the object's owner may send; nothing was applied, retry later",
    },
    FERRY_COMPOSE_QUOTA: {
      num: 7462,
      status: 429,
      doc: 'the owner has the most service objects, or open event streams, a host allows; delete or close one first',
    },
    FERRY_COMPOSE_BAD_REQUEST: {
      num: 7463,
      status: 400,
      doc: 'a request to a composite-stream route is malformed: a grant body, a time range, a count or an owner that is not what the route takes',
    },
  },
  { package: '@ferry/compose', errorName: 'ComposeError' },
);

export const COMPOSE_ERRORS = COMPOSE.codes;
export type ComposeErrorCode = keyof typeof COMPOSE_ERRORS;
export type ComposeError = CatalogError<ComposeErrorCode> & { where?: ErrorWhere };

/** Where in a document an error lies: stream, channel (or `pre-filter` / `post-filter`) and 0-based offset. */
export interface ErrorWhere {
  readonly so?: string;
  readonly stream?: string;
  readonly channel?: string;
  readonly position?: number;
}

/** A catalog error carrying where it happened; the message names it too, so a log line is enough. */
export function composeError(code: ComposeErrorCode, detail: string, where: ErrorWhere = {}): ComposeError {
  const parts = [
    where.so !== undefined ? `so ${where.so}` : '',
    where.stream !== undefined ? `stream ${where.stream}` : '',
    where.channel !== undefined ? `channel ${where.channel}` : '',
    where.position !== undefined ? `position ${where.position}` : '',
  ].filter((p) => p !== '');
  const e = new COMPOSE.Error(code, parts.length > 0 ? `${parts.join(', ')}: ${detail}` : detail) as ComposeError;
  e.where = where;
  return e;
}

export const isComposeError = (e: unknown): e is ComposeError => e instanceof COMPOSE.Error;
