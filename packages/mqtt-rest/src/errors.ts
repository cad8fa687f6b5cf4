/**
 * @module The control channel's error catalog (7000-7099). The cloud side throws FERRY_CTL_TIMEOUT and
 * FERRY_CTL_BAD_REPLY (the cloud's gateway proxy answers their status) and counts the replies it refuses;
 * the gateway side reports the requests it refuses through `onRefused`. Either side reports a token that
 * fails verification with its FERRY_MSG_* code. docs/errors.md lists every catalog.
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
    FERRY_CTL_BAD_REPLY: {
      num: 7002,
      status: 504,
      doc: 'the cloud holds no key for this gateway, so it can neither sign a request nor verify a reply; or a verified reply is not a well-formed {id, status, body} (refused, the request keeps waiting)',
    },
    FERRY_CTL_BAD_REQUEST: {
      num: 7003,
      status: 400,
      doc: 'a control request that is not a complete {id, method GET or POST, path}, or (refused by the cloud before sending) whose path is outside /api/; nothing ran',
    },
    FERRY_CTL_REPLAY: {
      num: 7004,
      status: 409,
      doc: 'the gateway refused a control request with an id it already served (remembered across restarts while the request is fresh); nothing ran',
    },
    FERRY_CTL_FORBIDDEN_PATH: {
      num: 7005,
      status: 403,
      doc: 'the gateway refused a verified control request for a path outside /api/ and answered with this code at once; nothing ran',
    },
    FERRY_CTL_STALE: {
      num: 7006,
      status: 409,
      doc: 'the gateway refused a control request whose timestamp is more than maxAgeMs (default 120 s) from its clock, either way; nothing ran',
    },
    FERRY_CTL_DIRECTION: {
      num: 7007,
      status: 400,
      doc: 'a control message MACed for the other direction (a request offered as a reply, or a reply as a request); refused',
    },
    FERRY_CTL_WRONG_GATEWAY: {
      num: 7008,
      status: 403,
      doc: 'a control message bound to another gateway than the one of its topic, or a reply naming a request that went to another gateway; refused',
    },
    FERRY_CTL_UNKNOWN_REQUEST: {
      num: 7009,
      status: 409,
      doc: 'a control reply naming no pending request (late after a timeout, meant for another cloud worker, or forged); ignored without effect',
    },
    FERRY_CTL_BUSY: {
      num: 7010,
      status: 503,
      doc: "the gateway's replay window is full of unexpired request ids (or cannot be read or written), so it refused the request (a fresh one is answered with this code); nothing ran",
    },
  },
  { package: '@ferry/mqtt-rest', errorName: 'ControlError' },
);

export const CONTROL_ERRORS = CONTROL.codes;
export type ControlErrorCode = keyof typeof CONTROL_ERRORS;

export class ControlError extends CONTROL.Error {}
