/**
 * @module The dashboard catalog (8100-8149): the cloud's data routes for the dashboard's devices and streams
 * pages (series, live telemetry; docs/operations.md, "Dashboard"). docs/errors.md lists every catalog.
 */
import { defineErrors } from '@ferry/base';

const DASH = defineErrors(
  'FERRY_DASH_',
  [8100, 8149],
  {
    FERRY_DASH_BAD_QUERY: {
      num: 8101,
      status: 400,
      doc: 'a query parameter of a dashboard data route is missing, malformed or out of range (device, event, field, from, to, points); the reply names it in `path`',
    },
    FERRY_DASH_LIVE_QUOTA: {
      num: 8102,
      status: 429,
      doc: 'GET /api/v1/live: this owner already has the most live telemetry streams open (LIVE_PER_OWNER); close one first',
    },
  },
  { package: '@ferry/cloud', errorName: 'DashError' },
);

export const DASH_ERRORS = DASH.codes;
export type DashErrorCode = keyof typeof DASH_ERRORS;

export class DashError extends DASH.Error {}

/** A refused query, naming the parameter (`path`) as the other 400s of the API do. */
export class DashQueryError extends DashError {
  constructor(path: string, detail: string) {
    super('FERRY_DASH_BAD_QUERY', detail, { path });
  }
}
