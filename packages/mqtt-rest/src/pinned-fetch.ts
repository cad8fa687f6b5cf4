/**
 * @module fetch with one CA pinned, for the clients that talk HTTPS to a cloud whose certificate a private CA
 * signed (docs/cloud.md "TLS"): node's built-in fetch trusts the system roots only and takes no CA of its own,
 * so an https:// request goes through node:https with `ca` as the only trusted root and `rejectUnauthorized`.
 * It answers with a standard Response; other schemes go to the built-in fetch. Bodies are strings or bytes,
 * as the callers send them.
 */
import { request } from 'node:https';

export function pinnedFetch(ca: string): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = input instanceof Request ? input.url : String(input);
    if (!url.startsWith('https:')) return fetch(input, init);
    const body = init?.body ?? undefined;
    if (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Uint8Array))
      throw new TypeError('pinnedFetch sends a string or bytes as the body');
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => {
      headers[k] = v;
    });
    return new Promise<Response>((resolve, reject) => {
      const req = request(
        url,
        { method: init?.method ?? 'GET', headers, ca, rejectUnauthorized: true, ...(init?.signal != null && { signal: init.signal }) },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const h = new Headers();
            for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
            resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500, headers: h }));
          });
        },
      );
      req.on('error', reject);
      req.end(body ?? undefined);
    });
  }) as typeof fetch;
}
