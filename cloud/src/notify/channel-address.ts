/**
 * @module Where a channel may connect (docs/notifications.md "Addresses"): an owner's webhook URL or SMTP
 * host must not reach the cloud's own network (net/addresses.ts: loopback, private, link-local, the cloud
 * metadata address 169.254.169.254, multicast, reserved), unless the cloud was started allowing it (tests and labs allow loopback).
 * Checked when the channel is saved (a literal address) and on every connection (the addresses the name
 * resolves to then), so a name re-pointed after it was checked is refused too.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { isPublicAddress } from '../net/addresses.ts';
import { NotifyError } from './errors.ts';

/** Whether an IP address is one a channel may not reach without the cloud's leave (net/addresses.ts). */
export const isPrivateAddress = (ip: string): boolean => !isPublicAddress(ip);

/** Refuses a host name that is itself a private address or `localhost` (the save-time check). */
export function checkHost(host: string, allowPrivate: boolean, path: string): void {
  if (allowPrivate) return;
  const h = host.replace(/^\[|\]$/g, '');
  if (h.toLowerCase() === 'localhost' || h.toLowerCase().endsWith('.localhost') || (isIP(h) !== 0 && isPrivateAddress(h)))
    throw new NotifyError('FERRY_NOTIFY_ADDRESS', `${host} is a private, loopback or link-local address`, { path });
}

/** Checks a webhook URL when a channel is saved: http(s), no credentials in it, no private literal host. */
export function checkWebhookUrl(raw: string, allowPrivate: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new NotifyError('FERRY_NOTIFY_ADDRESS', 'url is not a URL', { path: 'config.url' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new NotifyError('FERRY_NOTIFY_ADDRESS', 'url must be http or https', { path: 'config.url' });
  if (url.username !== '' || url.password !== '')
    throw new NotifyError('FERRY_NOTIFY_ADDRESS', 'url must not carry credentials (the body is signed instead)', { path: 'config.url' });
  checkHost(url.hostname, allowPrivate, 'config.url');
  return url;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net/http/tls that resolves as usual and refuses private addresses (connect-time check),
 * so DNS cannot point an accepted name at the cloud's network.
 */
export function guardedLookup(allowPrivate: boolean) {
  return (host: string, options: { readonly all?: boolean | undefined; readonly family?: number | string | undefined }, callback: LookupCallback): void => {
    dnsLookup(
      host,
      { family: options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0, all: true },
      (err, addresses) => {
        if (err !== null) return callback(err, []);
        const list = addresses as LookupAddress[];
        const bad = allowPrivate ? undefined : list.find((a) => isPrivateAddress(a.address));
        if (bad !== undefined)
          return callback(Object.assign(new Error(`${host} resolves to ${bad.address}, a private address`), { code: 'FERRY_NOTIFY_ADDRESS' }), []);
        if (options.all === true) return callback(null, list);
        const first = list[0];
        if (first === undefined) return callback(Object.assign(new Error(`${host} has no address`), { code: 'ENOTFOUND' }), []);
        callback(null, first.address, first.family);
      },
    );
  };
}
