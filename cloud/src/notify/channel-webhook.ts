/**
 * @module The webhook channel (docs/notifications.md "Webhooks"): one HTTP POST per delivery, its JSON body
 * signed with HMAC-SHA256 under the channel's secret. The signature header carries the time it was made,
 * `Ferry-Signature: t=<unix s>,v1=<hex HMAC of "<t>.<body>">`, so a receiver refuses a body replayed later
 * than its tolerance (verifyWebhook does both checks); `Ferry-Delivery` is the delivery id, the same on every
 * retry, for a receiver to drop repeats. Acknowledgement = a 2xx answer within the channel timeout.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { NotifyError } from './errors.ts';
import type { Message, WebhookChannelConfig } from './types.ts';
import { guardedLookup } from './channel-address.ts';

export const SIGNATURE_HEADER = 'ferry-signature';
export const DELIVERY_HEADER = 'ferry-delivery';
/** How old a signed body a receiver should still accept, seconds (verifyWebhook's default). */
export const SIGNATURE_TOLERANCE_S = 300;

// Connections are kept between deliveries (most go to a few receivers); the lookup guard runs on each new one.
const agents = { 'http:': new HttpAgent({ keepAlive: true, maxSockets: 64 }), 'https:': new HttpsAgent({ keepAlive: true, maxSockets: 64 }) };

/** The body a webhook receives. */
export const webhookBody = (deliveryId: string, m: Message): string =>
  JSON.stringify({ delivery: deliveryId, subject: m.subject, body: m.body, event: m.event });

export const signWebhook = (secret: string, body: string, t: number): string =>
  `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;

/**
 * What a receiver runs (shown in docs/notifications.md): the header's time within the tolerance of `nowS`,
 * and its MAC equal to the body's, compared in constant time.
 */
export function verifyWebhook(secret: string, body: string, header: string | undefined, nowS: number, toleranceS = SIGNATURE_TOLERANCE_S): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (m === null) return false;
  const t = Number(m[1]);
  if (Math.abs(nowS - t) > toleranceS) return false;
  const want = Buffer.from(signWebhook(secret, body, t).slice(-64), 'hex');
  return timingSafeEqual(want, Buffer.from(m[2]!, 'hex'));
}

/** POSTs one delivery; resolves on a 2xx, throws a NotifyError otherwise. */
export function postWebhook(
  c: WebhookChannelConfig,
  secret: string,
  deliveryId: string,
  m: Message,
  o: { readonly nowS: number; readonly allowPrivate: boolean },
): Promise<void> {
  const body = webhookBody(deliveryId, m);
  const url = new URL(c.url);
  const https = url.protocol === 'https:';
  const request = https ? httpsRequest : httpRequest;
  return new Promise<void>((resolve, reject) => {
    let done = false;
    const finish = (e?: NotifyError): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (e === undefined) resolve();
      else reject(e);
    };
    const req = request(
      url,
      {
        method: 'POST',
        agent: https ? agents['https:'] : agents['http:'],
        lookup: guardedLookup(o.allowPrivate),
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'ferry-notify',
          [SIGNATURE_HEADER]: signWebhook(secret, body, o.nowS),
          [DELIVERY_HEADER]: deliveryId,
        },
      },
      (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        res.resume(); // the answer's body is not needed: drain it so the socket is freed
        res.on('end', () => finish(status >= 200 && status < 300 ? undefined : new NotifyError('FERRY_NOTIFY_WEBHOOK', `answered HTTP ${status}`)));
        res.on('error', (e) => finish(new NotifyError('FERRY_NOTIFY_WEBHOOK', e.message)));
      },
    );
    // The whole exchange, not one socket read: a server that trickles bytes is cut off too.
    const timer = setTimeout(() => {
      finish(new NotifyError('FERRY_NOTIFY_TIMEOUT', `no answer within ${c.timeoutMs} ms`));
      req.destroy();
    }, c.timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) =>
      finish(new NotifyError(e.code === 'FERRY_NOTIFY_ADDRESS' ? 'FERRY_NOTIFY_ADDRESS' : 'FERRY_NOTIFY_WEBHOOK', e.message)),
    );
    req.end(body);
  });
}
