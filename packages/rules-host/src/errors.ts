/**
 * @module The rule REST API's own error catalog (7100-7199): requests the routes refuse before the engine
 * sees them, and hand-overs that fail. Rule errors keep their FERRY_RULES_* codes and statuses. As in rule
 * errors, the message is the reason alone: a body carries the code beside it. docs/errors.md lists every
 * catalog.
 */
import { defineErrors } from '@ferry/base';

const API = defineErrors('FERRY_API_', [7100, 7199], {
  FERRY_API_BAD_REQUEST: { num: 7101, status: 400, doc: 'the request body is not what the route takes (the message shows the expected shape; `path` names the missing field)' },
  FERRY_API_MOVE_FAILED: { num: 7102, status: 502, doc: 'the hand-over of a job to the target runtime failed (unreachable, or it refused the job); the job is restored at the source from the same snapshot' },
}, { package: '@ferry/rules-host', errorName: 'ApiError', codeInMessage: false });

export const API_ERRORS = API.codes;
export type ApiErrorCode = keyof typeof API_ERRORS;

export class ApiError extends API.Error {}
