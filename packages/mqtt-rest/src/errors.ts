/**
 * @module The control channel's error catalog (7000-7099). The cloud side throws FERRY_CTL_TIMEOUT and
 * FERRY_CTL_BAD_REPLY (the cloud's gateway proxy answers their status); the gateway side reports
 * FERRY_CTL_BAD_REQUEST and FERRY_CTL_REPLAY through `onRefused`, with the FERRY_MSG_* code of a token that
 * fails verification. docs/errors.md lists every catalog.
 */
import { defineErrors } from '@ferry/base';

const CONTROL = defineErrors(
  'FERRY_CTL_',
  [7000, 7099],
  {
    FERRY_CTL_TIMEOUT: {
      num: 7001,
      status: 504,
      doc: 'the gateway did not answer the control request within the timeout (offline, or its control channel is down)',
    },
    FERRY_CTL_BAD_REPLY: { num: 7002, status: 504, doc: 'the cloud holds no key for this gateway, so it can neither sign a request nor verify a reply' },
    FERRY_CTL_BAD_REQUEST: {
      num: 7003,
      status: 400,
      doc: 'a control request that is not a complete {id, method GET or POST, path}, or (refused by the cloud before sending) whose path is outside /api/; nothing ran',
    },
    FERRY_CTL_REPLAY: {
      num: 7004,
      status: 409,
      doc: 'the gateway refused a control request older than maxAgeMs (default 120 s) or with an id it already served; nothing ran',
    },
    FERRY_CTL_FORBIDDEN_PATH: {
      num: 7005,
      status: 403,
      doc: 'the gateway refused a verified control request for a path outside /api/ and answered with this code at once; nothing ran',
    },
  },
  { package: '@ferry/mqtt-rest', errorName: 'ControlError' },
);

export const CONTROL_ERRORS = CONTROL.codes;
export type ControlErrorCode = keyof typeof CONTROL_ERRORS;

export class ControlError extends CONTROL.Error {}
