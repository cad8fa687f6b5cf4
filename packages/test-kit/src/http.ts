/**
 * @module The cloud's HTTP API in tests: a fixed admin credential to start a cloud with
 * (`new CloudService({..., adminToken: ADMIN_TOKEN})`) and fetch helpers that send it, or another credential;
 * `call` parses the JSON answer.
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

/** An answer: its status and its body parsed as JSON (undefined when empty). */
export interface JsonAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** A request with a credential (or none) and a JSON body, or bytes of `type` (a wasm module); the answer parsed. */
export async function call(
  api: string,
  method: string,
  path: string,
  token: string | undefined,
  body?: unknown,
  type = 'application/json',
): Promise<JsonAnswer> {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  let payload: string | ArrayBuffer | undefined;
  if (body !== undefined) {
    headers['content-type'] = type;
    payload = body instanceof Uint8Array ? (new Uint8Array(body).buffer as ArrayBuffer) : JSON.stringify(body);
  }
  const r = await fetch(`${api}${path}`, { method, headers, ...(payload !== undefined && { body: payload }) });
  const text = await r.text();
  return { status: r.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

/** The body of an answer that must have succeeded (2xx); anything else throws, naming `what` and the answer. */
export function bodyOf<T>(a: JsonAnswer, what: string): T {
  if (a.status >= 300) throw new Error(`${what}: ${a.status} ${JSON.stringify(a.body)}`);
  return a.body as T;
}
