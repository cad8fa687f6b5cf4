/**
 * @module The REST API's own error catalog (7100-7199), on the gateway and in the cloud: requests refused
 * before any engine or service sees them (bodies that are not what a route takes, not JSON, too large or of
 * another type; unknown routes), hand-overs that fail, and failures no catalog names. Rule errors keep their
 * FERRY_RULES_* codes and statuses. As in rule errors, the message is the reason alone: a body carries the
 * code beside it. docs/errors.md lists every catalog.
 */
import { defineErrors } from '@ferry/base';

const API = defineErrors(
  'FERRY_API_',
  [7100, 7199],
  {
    FERRY_API_BAD_REQUEST: {
      num: 7101,
      status: 400,
      doc: 'the request body is not what the route takes (the message shows the expected shape; `path` names the missing field), or not JSON at all',
    },
    FERRY_API_MOVE_FAILED: {
      num: 7102,
      status: 502,
      doc: 'the hand-over of a job to the target runtime failed (unreachable, or it refused the job); the job is restored at the source from the same snapshot',
    },
    FERRY_API_TOO_LARGE: { num: 7103, status: 413, doc: "the request body is larger than the server's body limit (1 MiB); nothing ran" },
    FERRY_API_MEDIA_TYPE: {
      num: 7104,
      status: 415,
      doc: 'the request body is of a content type no route of this server parses (JSON, or application/wasm for a module upload)',
    },
    FERRY_API_NOT_FOUND: { num: 7105, status: 404, doc: 'no route for this method and path' },
    FERRY_API_INTERNAL: {
      num: 7106,
      status: 500,
      doc: "the server failed on an error no catalog names (a bug); the reply says no more, the server's log has the error",
    },
    FERRY_API_MOVE_TARGET: {
      num: 7107,
      status: 403,
      doc: 'the move names a target this host does not move jobs to (not a registered gateway, not a configured peer); nothing left this host',
    },
  },
  { package: '@ferry/rules-host', errorName: 'ApiError', codeInMessage: false },
);

export const API_ERRORS = API.codes;
export type ApiErrorCode = keyof typeof API_ERRORS;

export class ApiError extends API.Error {}
