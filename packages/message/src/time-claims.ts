/**
 * @module The time claims of RFC 7519: `exp` (§4.1.4, expiration: not accepted on or after it) and `nbf` (§4.1.5,
 * not before: not accepted before it), both NumericDate (seconds since the epoch), checked with a leeway for
 * clock skew as JWT libraries do (PyJWT, jose: a few seconds to minutes). Ferry's own messages carry neither
 * (they are ordered by (epoch, seq), not by clocks); a token that carries them is checked when asked.
 */
import { fail, ok, type Result } from './errors.ts';
import type { Claims } from './codec.ts';

/** Default leeway for exp and nbf, seconds. */
export const TIME_LEEWAY_S = 60;

/** Checks exp and nbf, when present, against `nowS` (seconds) with `leewayS`. */
export function checkTimeClaims(claims: Claims, nowS: number, leewayS: number = TIME_LEEWAY_S): Result<Claims> {
  const { exp, nbf } = claims;
  if (exp !== undefined) {
    if (typeof exp !== 'number' || !Number.isFinite(exp)) return fail('FERRY_MSG_CLAIMS', 'exp must be a NumericDate (RFC 7519 §4.1.4)');
    if (nowS >= exp + leewayS) return fail('FERRY_MSG_EXPIRED', `expired at ${new Date(exp * 1000).toISOString()} (leeway ${leewayS} s)`);
  }
  if (nbf !== undefined) {
    if (typeof nbf !== 'number' || !Number.isFinite(nbf)) return fail('FERRY_MSG_CLAIMS', 'nbf must be a NumericDate (RFC 7519 §4.1.5)');
    if (nowS < nbf - leewayS) return fail('FERRY_MSG_NOT_YET_VALID', `not valid before ${new Date(nbf * 1000).toISOString()} (leeway ${leewayS} s)`);
  }
  return ok(claims);
}
