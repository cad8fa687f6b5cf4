/**
 * @module The HTTP side of callback subscriptions: which URLs a callback may name, and one signed POST.
 *
 * A callback must not turn the cloud into a proxy into its own network (server-side request forgery), so
 * loopback, private, link-local, shared, multicast and reserved addresses are refused unless the cloud is
 * configured to allow them. The check is made on the URL at registration and on every address the name
 * resolves to when a POST connects (the request's own DNS lookup is wrapped), so a name that changes its
 * answer after registration (DNS rebinding) still reaches no private address.
 *
 * The body is signed with HMAC-SHA256 under the subscription's secret, over `<t>.<body>` (t: unix ms), sent
 * as `X-Ferry-Signature: t=<t>,v1=<hex>`: a receiver recomputes it and refuses an old `t` to stop replays.
 */
import { createHmac } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isPublicAddress } from '../net/addresses.ts';
import { SoFlowError } from './errors.ts';

export { isPublicAddress };

export const MAX_URL = 2048;

/** Checks a callback URL's form (and a literal address); answers the URL or throws FERRY_SOFLOW_BAD_URL / _PRIVATE_ADDRESS. */
export function checkUrl(raw: unknown, allowPrivate: boolean): URL {
  if (typeof raw !== 'string' || raw.length > MAX_URL) throw new SoFlowError('FERRY_SOFLOW_BAD_URL', `url must be a string of at most ${MAX_URL} characters`);
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new SoFlowError('FERRY_SOFLOW_BAD_URL', 'url does not parse as an absolute URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new SoFlowError('FERRY_SOFLOW_BAD_URL', 'url must be http or https');
  if (u.username !== '' || u.password !== '') throw new SoFlowError('FERRY_SOFLOW_BAD_URL', 'url must not carry credentials (use the secret)');
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivate && (isIP(host) !== 0 ? !isPublicAddress(host) : host === 'localhost' || host.endsWith('.localhost')))
    throw new SoFlowError('FERRY_SOFLOW_PRIVATE_ADDRESS', `${u.hostname} is not a public address`);
  return u;
}

/** Resolves a host name and refuses it when any of its addresses is not public (registration). */
export async function checkResolves(u: URL, allowPrivate: boolean): Promise<void> {
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (allowPrivate || isIP(host) !== 0) return;
  const all = await new Promise<LookupAddress[]>((resolve, reject) =>
    dnsLookup(host, { all: true }, (e, a) => (e === null ? resolve(a) : reject(new SoFlowError('FERRY_SOFLOW_BAD_URL', `${host} does not resolve`)))),
  );
  if (all.some((a) => !isPublicAddress(a.address))) throw new SoFlowError('FERRY_SOFLOW_PRIVATE_ADDRESS', `${host} resolves to a non-public address`);
}

/** A DNS lookup for http.request that fails on a non-public answer. */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (e, addresses: LookupAddress[]) => {
    if (e !== null) return callback(e, '', 4);
    const bad = addresses.find((a) => !isPublicAddress(a.address));
    if (bad !== undefined) return callback(new SoFlowError('FERRY_SOFLOW_PRIVATE_ADDRESS', `${hostname} resolves to ${bad.address}`), '', 4);
    if (options.all === true) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    const first = addresses[0]!;
    return callback(null, first.address, first.family);
  });
};

export function sign(secret: string, t: number, body: string): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

export interface PostResult {
  /** The response status, or undefined when no response came (refused address, network error, timeout). */
  readonly status?: number | undefined;
  readonly error?: Error | undefined;
}

/** One signed POST of `body`; never throws. The response body is read and discarded (at most what arrives before it ends). */
export function post(
  url: URL,
  body: string,
  headers: Readonly<Record<string, string>>,
  o: { readonly timeoutMs: number; readonly allowPrivate: boolean },
): Promise<PostResult> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!o.allowPrivate && isIP(host) !== 0 && !isPublicAddress(host))
    return Promise.resolve({ error: new SoFlowError('FERRY_SOFLOW_PRIVATE_ADDRESS', `${host} is not a public address`) });
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: PostResult): void => {
      if (!done) {
        done = true;
        clearTimeout(timer);
        resolve(r);
      }
    };
    const make = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req: ClientRequest = make(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers },
        ...(!o.allowPrivate && { lookup: guardedLookup }),
        agent: false,
      },
      (res: IncomingMessage) => {
        res.resume();
        res.once('end', () => finish({ status: res.statusCode }));
        res.once('error', () => finish({ status: res.statusCode }));
      },
    );
    const timer = setTimeout(() => {
      finish({ error: new Error(`no answer within ${o.timeoutMs} ms`) });
      req.destroy();
    }, o.timeoutMs);
    req.once('error', (e) => finish({ error: e }));
    req.end(body);
  });
}
