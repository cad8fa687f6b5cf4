/**
 * @module The cloud's HTTP API in tests: a fixed admin credential to start a cloud with
 * (`new CloudService({..., adminToken: ADMIN_TOKEN})`) and fetch helpers that send it, or another credential.
 */

/** An admin credential for test clouds (32+ characters, as the service requires). */
export const ADMIN_TOKEN = 'ferry-test-admin-credential-0123456789abcdef';

/** Headers that present `token` (the admin credential by default) as the Bearer credential. */
export const bearer = (token: string = ADMIN_TOKEN): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** GET with a credential. */
export const getAs = (url: string, token: string = ADMIN_TOKEN): Promise<Response> => fetch(url, { headers: bearer(token) });

/** POST of a JSON body with a credential. */
export const postAs = (url: string, body: unknown, token: string = ADMIN_TOKEN): Promise<Response> =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(token) }, body: JSON.stringify(body) });

/** DELETE with a credential. */
export const deleteAs = (url: string, token: string = ADMIN_TOKEN): Promise<Response> => fetch(url, { method: 'DELETE', headers: bearer(token) });
