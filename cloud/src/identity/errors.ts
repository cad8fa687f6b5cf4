/**
 * @module The access catalog (7300-7399): every way the cloud's HTTP API refuses a caller for who they are or
 * what they may do has one code (FERRY_AUTH_*), one number and one HTTP status. docs/security.md explains the
 * identities and roles; docs/errors.md lists every catalog.
 */
import { defineErrors } from '@ferry/base';

const AUTH = defineErrors(
  'FERRY_AUTH_',
  [7300, 7399],
  {
    FERRY_AUTH_REQUIRED: {
      num: 7301,
      status: 401,
      doc: 'the route needs a credential (Authorization: Bearer <token>, or the session cookie) and none was sent',
    },
    FERRY_AUTH_BAD_CREDENTIAL: { num: 7302, status: 401, doc: 'the credential is unknown, malformed, expired or revoked' },
    FERRY_AUTH_FORBIDDEN: {
      num: 7303,
      status: 403,
      doc: 'the credential is valid but its role is too low for the route, or the object belongs to another owner (the reply does not say whether it exists)',
    },
    FERRY_AUTH_RATE_LIMITED: {
      num: 7304,
      status: 429,
      doc: 'too many requests for this credential (or, without one, this address); retry after the time the reply gives',
    },
    FERRY_AUTH_BAD_REQUEST: {
      num: 7305,
      status: 400,
      doc: 'an identity request is malformed: a role, owner id, lifetime or invitation that is not one the API takes',
    },
    FERRY_AUTH_EXISTS: { num: 7306, status: 409, doc: 'the owner id is already registered' },
    FERRY_AUTH_NOT_FOUND: { num: 7307, status: 404, doc: 'no such API token or owner (among those the caller may see)' },
    FERRY_AUTH_ORIGIN: {
      num: 7309,
      status: 403,
      doc: "a request that changes something, authenticated by the session cookie, came without an Origin header or from another origin than the cloud's own (the dashboard's pages send it; API clients use a bearer credential)",
    },
    FERRY_AUTH_CONFIG: {
      num: 7308,
      status: 500,
      doc: 'the admin credential given (FERRY_ADMIN_TOKEN or CloudOptions.adminToken) is shorter than 32 characters (at start-up: the service does not start)',
    },
  },
  { package: '@ferry/cloud', errorName: 'AuthError' },
);

export const AUTH_ERRORS = AUTH.codes;
export type AuthErrorCode = keyof typeof AUTH_ERRORS;

export class AuthError extends AUTH.Error {}
