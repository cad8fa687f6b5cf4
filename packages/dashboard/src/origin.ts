/**
 * @module Whether a request came from the dashboard's own pages: the Origin header (RFC 6454 §7, sent by
 * browsers on every POST, PUT and DELETE, same-origin ones included) names the host the request was sent to.
 * A session cookie is SameSite=Strict, but another port of the same host is the same site, so a page served
 * there could still send it; the cloud and the gateway therefore accept a change made with the cookie only
 * from their own origin (docs/security.md, "HTTP").
 */

/** Methods that change nothing (RFC 9110 §9.2.1): no Origin is asked of them. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

export function sameOrigin(req: { readonly headers: { readonly origin?: string | undefined; readonly host?: string | undefined } }): boolean {
  const { origin, host } = req.headers;
  if (origin === undefined || host === undefined) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
