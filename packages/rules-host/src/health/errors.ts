/**
 * @module The operations catalog (7800-7899): the health, liveness, incident and probe routes of the cloud,
 * and the gateway's health history route (docs/operations.md). Here, beside the health history both share, so
 * both answer the same codes. docs/errors.md lists every catalog.
 */
import { defineErrors } from '@ferry/base';

const OPS = defineErrors(
  'FERRY_OPS_',
  [7800, 7899],
  {
    FERRY_OPS_BAD_QUERY: {
      num: 7801,
      status: 400,
      doc: 'a query parameter of a health route is malformed or out of range (limit, state); the reply names it',
    },
    FERRY_OPS_NOT_READY: {
      num: 7802,
      status: 503,
      doc: 'GET /readyz: a readiness check failed (broker link down, store unreachable, recovery not finished, a component failing); the body names the failing checks',
    },
    FERRY_OPS_NO_SERIES: {
      num: 7803,
      status: 404,
      doc: 'GET /api/v1/health/history: no series of that name is recorded (GET /api/v1/health/history without series lists them)',
    },
  },
  { package: '@ferry/rules-host', errorName: 'OpsError' },
);

export const OPS_ERRORS = OPS.codes;
export type OpsErrorCode = keyof typeof OPS_ERRORS;

/** An operations error; `path` names the offending query parameter when there is one. */
export class OpsError extends OPS.Error {}
