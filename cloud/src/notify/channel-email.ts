/**
 * @module The email channel (docs/notifications.md "Email"): one message per delivery over SMTP through
 * nodemailer, plain text, the subscription's rendered subject and body. Acknowledgement = the server accepted
 * the message for at least one recipient (its 250 after DATA); a refusal, a failed login or no answer within
 * the channel timeout is a failed attempt. One pooled transport per channel version is kept open between
 * deliveries. The server's name is resolved here and checked against the address rules (channel-address.ts),
 * and the transport connects to that address (TLS still verifies the name), so the name cannot be re-pointed
 * between the check and the connection.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { createTransport, type Transporter } from 'nodemailer';
import { NotifyError } from './errors.ts';
import type { EmailChannelConfig, Message } from './types.ts';
import { checkHost, isPrivateAddress } from './channel-address.ts';

export class EmailSender {
  readonly #transports = new Map<string, Transporter>();
  readonly #allowPrivate: boolean;

  constructor(o: { readonly allowPrivate: boolean }) {
    this.#allowPrivate = o.allowPrivate;
  }

  async send(key: string, c: EmailChannelConfig, password: string | undefined, deliveryId: string, m: Message): Promise<void> {
    checkHost(c.host, this.#allowPrivate, 'config.host');
    const t = await this.#transport(key, c, password);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new NotifyError('FERRY_NOTIFY_TIMEOUT', `the SMTP server did not accept within ${c.timeoutMs} ms`)), c.timeoutMs);
    });
    try {
      const info = (await Promise.race([
        t.sendMail({
          from: c.from,
          to: [...c.to],
          subject: m.subject,
          text: m.body,
          headers: { 'X-Ferry-Delivery': deliveryId },
          messageId: `<${deliveryId}@ferry.notify>`,
        }),
        timeout,
      ])) as { accepted?: unknown[] };
      if ((info.accepted ?? []).length === 0) throw new NotifyError('FERRY_NOTIFY_SMTP', 'the server accepted no recipient');
    } catch (e) {
      if (e instanceof NotifyError) {
        if (e.code === 'FERRY_NOTIFY_TIMEOUT') this.#drop(key);
        throw e;
      }
      this.#drop(key);
      throw new NotifyError('FERRY_NOTIFY_SMTP', e instanceof Error ? e.message : String(e));
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    for (const key of [...this.#transports.keys()]) this.#drop(key);
  }

  async #transport(key: string, c: EmailChannelConfig, password: string | undefined): Promise<Transporter> {
    let t = this.#transports.get(key);
    if (t === undefined) {
      let addresses: { address: string }[];
      try {
        addresses = await lookup(c.host, { all: true });
      } catch (e) {
        throw new NotifyError('FERRY_NOTIFY_SMTP', `cannot resolve ${c.host}: ${e instanceof Error ? e.message : String(e)}`);
      }
      const bad = this.#allowPrivate ? undefined : addresses.find((a) => isPrivateAddress(a.address));
      if (bad !== undefined) throw new NotifyError('FERRY_NOTIFY_ADDRESS', `${c.host} resolves to ${bad.address}, a private address`);
      const address = addresses[0]?.address;
      if (address === undefined) throw new NotifyError('FERRY_NOTIFY_SMTP', `${c.host} has no address`);
      t = createTransport({
        host: address,
        ...(isIP(c.host) === 0 && { tls: { servername: c.host } }),
        port: c.port,
        secure: c.secure,
        pool: true,
        maxConnections: 2,
        connectionTimeout: c.timeoutMs,
        greetingTimeout: c.timeoutMs,
        socketTimeout: c.timeoutMs,
        ...(c.user !== undefined && { auth: { user: c.user, pass: password ?? '' } }),
      });
      this.#transports.set(key, t);
    }
    return t;
  }

  #drop(key: string): void {
    this.#transports.get(key)?.close();
    this.#transports.delete(key);
  }
}
