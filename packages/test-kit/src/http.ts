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

export interface SseRead {
  /** The event name whose data is collected (`point`). */
  readonly event: string;
  /** Stop once this many came. */
  readonly want: number;
  /** Runs with the stream open (sends what should arrive). */
  readonly whileOpen: () => Promise<void>;
  /** Fail after this long without `want` of them (default 15 s). */
  readonly timeoutMs?: number;
  /** Keep reading this long after `want` came, so one sent twice would show (default 0). */
  readonly afterMs?: number;
}

/**
 * Opens a server-sent event stream at `url` with `token` and collects the JSON data of each `event` until
 * `want` came (then `afterMs` more); the stream is closed however it ends. Throws on a non-200 answer or the
 * timeout, naming what came.
 */
export async function readSse<T>(url: string, token: string, o: SseRead): Promise<T[]> {
  const abort = new AbortController();
  const r = await fetch(url, { headers: bearer(token), signal: abort.signal });
  if (r.status !== 200 || r.headers.get('content-type') !== 'text/event-stream') throw new Error(`${url}: ${r.status} ${r.headers.get('content-type')}`);
  const out: T[] = [];
  const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  let enough: () => void = () => undefined;
  const got = new Promise<void>((res) => {
    enough = res;
  });
  const reading = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      const blocks = buf.split('\n\n');
      buf = blocks.pop()!;
      for (const b of blocks) {
        const lines = b.split('\n');
        if (!lines.includes(`event: ${o.event}`)) continue;
        out.push(JSON.parse(lines.find((l) => l.startsWith('data: '))!.slice(6)) as T);
        if (out.length >= o.want) enough();
      }
    }
  })().catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    await o.whileOpen();
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${url}: ${out.length} of ${o.want} ${o.event} events: ${JSON.stringify(out)}`)), o.timeoutMs ?? 15_000);
    });
    await Promise.race([got, timeout]);
    if (o.afterMs !== undefined) await new Promise((res) => setTimeout(res, o.afterMs));
    return out;
  } finally {
    clearTimeout(timer);
    abort.abort();
    await reading;
  }
}

/**
 * Registers owner `id` on the cloud at `api` with the test admin credential and makes one token of each of
 * `roles` for it: its private token (`priv`) and a token per role, by role.
 */
export async function ownerWithTokens<R extends string>(api: string, id: string, roles: readonly R[]): Promise<{ readonly priv: string } & Record<R, string>> {
  const priv = bodyOf<{ privateToken: string }>(await call(api, 'POST', '/api/owners', ADMIN_TOKEN, { id }), `owner ${id}`).privateToken;
  const tokens = {} as Record<R, string>;
  for (const role of roles) tokens[role] = bodyOf<{ token: string }>(await call(api, 'POST', '/api/tokens', priv, { role }), `${role} token of ${id}`).token;
  return { priv, ...tokens };
}
