/**
 * @module The gateway dashboard's error catalog (8200-8249): logging in with the API token, sessions, and the
 * dashboard turned off for want of a token (docs/gateway.md, "Dashboard"). docs/errors.md lists every catalog.
 */
import { defineErrors } from '@ferry/base';

const GW_DASH = defineErrors(
  'FERRY_GW_DASH_',
  [8200, 8249],
  {
    FERRY_GW_DASH_OFF: {
      num: 8200,
      status: 404,
      doc: 'the gateway has no API token (api.token_file), so its dashboard is not served and no session can be opened',
    },
    FERRY_GW_DASH_BAD_LOGIN: { num: 8201, status: 401, doc: 'POST /api/session: the body is not {"token": "<the API token>"} or the token is wrong' },
    FERRY_GW_DASH_RATE_LIMITED: {
      num: 8202,
      status: 429,
      doc: 'more than 5 failed logins per second from one address (a burst of 10); the address waits',
    },
    FERRY_GW_DASH_ORIGIN: {
      num: 8203,
      status: 403,
      doc: "a request that changes something, authenticated by the session cookie, came without an Origin header or from another origin than the gateway's own",
    },
  },
  { package: '@ferry/gateway', errorName: 'GatewayDashError' },
);

export const GW_DASH_ERRORS = GW_DASH.codes;
export type GatewayDashErrorCode = keyof typeof GW_DASH_ERRORS;

export class GatewayDashError extends GW_DASH.Error {}
