/**
 * @module A lightweight device for command tests and benches (docs/actions.md): it logs in to a cloud's
 * broker as a registered device, subscribes to `<prefix>/dn/<id>/cmd`, verifies each command as a board's
 * host does (verifyDownlink with its downlink key, then a DownlinkWindow on (ep, sq)), "applies" it
 * (counted per command id, so a test sees any command applied twice) and answers with a signed `cmd.ack`
 * uplink from its own key and sequence on `<prefix>/up/<id>/msg`, as docs/actions.md "Commands" says.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { noDelay } from '@ferry/mqtt-rest';
import { DownlinkWindow, encode, verifyDownlink, type HmacKey, type Json } from '@ferry/message';
import { downlinkKey, hmacKey } from '@ferry/message/node';
import { deviceLogin } from './mqtt-login.ts';

/**
 * What the device does with a verified, fresh command: answer it (`acked` or `rejected`); stay `silent`
 * (it took the command's (ep, sq) but never answers, as a board that died before applying it); or `drop` it
 * (as if it never arrived: a copy of the same token is then taken).
 */
export type CommandAnswer = { readonly status: 'acked' | 'rejected'; readonly reason?: string } | 'silent' | 'drop';

export interface CommandDeviceOptions {
  readonly url: string;
  readonly id: string;
  /** The device key (hex, as DeviceRegistry.add returns it, or bytes). */
  readonly key: string | Uint8Array;
  readonly prefix?: string;
  /** The device's boot epoch for its uplink (default: now in seconds); a restarted device takes a higher one. */
  readonly ep?: number;
  /** How it answers each command (default: acked). */
  readonly answer?: (cmd: Json, id: string) => CommandAnswer;
  /** A replay window carried over from an earlier run of the same device (a reboot keeps it). */
  readonly window?: DownlinkWindow;
}

export class CommandDevice {
  readonly id: string;
  /** Applications per command id: more than one for an id is a command applied twice. */
  readonly applied = new Map<string, number>();
  /** Ids in the order they were applied. */
  readonly order: string[] = [];
  /** Tokens that did not verify (dropped, no answer), and verified ones refused as replayed or expired. */
  dropped = 0;
  refused = 0;
  readonly window: DownlinkWindow;
  readonly #client: MqttClient;
  readonly #key: HmacKey;
  readonly #dn: HmacKey;
  readonly #prefix: string;
  readonly #ep: number;
  #sq = 0;
  #answer: (cmd: Json, id: string) => CommandAnswer;
  readonly #waiters = new Set<() => void>();

  private constructor(o: CommandDeviceOptions, client: MqttClient) {
    const key = typeof o.key === 'string' ? Buffer.from(o.key, 'hex') : o.key;
    this.id = o.id;
    this.#client = client;
    this.#key = hmacKey(key);
    this.#dn = downlinkKey(key, o.id);
    this.#prefix = o.prefix ?? 'ferry';
    this.#ep = o.ep ?? Math.floor(Date.now() / 1000);
    this.#answer = o.answer ?? (() => ({ status: 'acked' }));
    this.window = o.window ?? new DownlinkWindow();
  }

  /** Connects, subscribes to its command topic and resolves once the subscription is granted. */
  static async connect(o: CommandDeviceOptions): Promise<CommandDevice> {
    const login = deviceLogin(o.id, o.key);
    // noDelay: a command and its answer are small packets; Nagle plus delayed ACKs would add ~40 ms a hop.
    const client = noDelay(await mqtt.connectAsync(o.url, { ...login, reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4 }));
    const d = new CommandDevice(o, client);
    client.on('message', (_topic, payload) => d.#take(payload.toString()));
    await client.subscribeAsync(`${d.#prefix}/dn/${o.id}/cmd`, { qos: 1 });
    return d;
  }

  /** Changes how later commands are answered. */
  answerWith(f: (cmd: Json, id: string) => CommandAnswer): void {
    this.#answer = f;
  }

  /**
   * A signed uplink message of event `ev` (a sign of life: scale-out clouds take the device as online), under
   * the next sequence number, or `sq` (tests that make a message arrive late).
   */
  async uplink(ev: string, d: Json, sq?: number): Promise<void> {
    const seq = sq ?? this.#sq++;
    const t = encode({ header: { kid: this.id, ep: this.#ep, sq: seq }, claims: { iss: this.id, iat: Math.floor(Date.now() / 1000), ev, d } }, this.#key);
    if (!t.ok) throw t.error;
    await this.#client.publishAsync(`${this.#prefix}/up/${this.id}/msg`, t.value, { qos: 1 });
  }

  #take(token: string): void {
    const v = verifyDownlink(token, this.#dn, { aud: this.id, nowMs: Date.now(), ev: 'cmd' });
    if (!v.ok) {
      // Tampered, wrong key or audience: dropped unanswered (its id cannot be trusted). Expired: answered.
      if (v.error.code !== 'FERRY_MSG_EXPIRED') this.dropped++;
      else this.#reject(token, 'expired');
      this.#wake();
      return;
    }
    const body = v.value.body as { id?: unknown; cmd?: Json };
    const id = typeof body?.id === 'string' ? body.id : undefined;
    if (id === undefined) {
      this.dropped++;
      return;
    }
    const a = this.window.fresh('cmd', v.value.ep, v.value.sq) ? this.#answer(body.cmd ?? null, id) : undefined;
    if (a === 'drop') return;
    if (a === undefined || !this.window.accept('cmd', v.value.ep, v.value.sq)) {
      this.refused++;
      void this.uplink('cmd.ack', { id, status: 'rejected', reason: 'replayed' }).catch(() => undefined);
      this.#wake();
      return;
    }
    if (a !== 'silent' && a.status === 'acked') {
      this.applied.set(id, (this.applied.get(id) ?? 0) + 1);
      this.order.push(id);
    }
    if (a !== 'silent') void this.uplink('cmd.ack', { id, status: a.status, ...(a.reason !== undefined && { reason: a.reason }) }).catch(() => undefined);
    this.#wake();
  }

  #reject(token: string, reason: string): void {
    const id = (() => {
      try {
        const part = token.split('.')[1] ?? '';
        return (JSON.parse(Buffer.from(part, 'base64url').toString()) as { d?: { id?: unknown } }).d?.id;
      } catch {
        return undefined;
      }
    })();
    this.refused++;
    if (typeof id === 'string') void this.uplink('cmd.ack', { id, status: 'rejected', reason }).catch(() => undefined);
  }

  #wake(): void {
    for (const w of this.#waiters) w();
  }

  /** Resolves once `pred` holds (checked after each command), or rejects after `timeoutMs`. */
  async until(pred: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (pred()) return;
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (!pred()) return;
        clearTimeout(t);
        this.#waiters.delete(check);
        resolve();
      };
      const t = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`device ${this.id}: condition not met in ${timeoutMs} ms (applied ${this.order.join(',')})`));
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }

  /** Disconnects (`force`: without DISCONNECT, as a device that lost power). */
  async close(force = false): Promise<void> {
    await this.#client.endAsync(force).catch(() => undefined);
  }
}

/** A fresh device id for tests. */
export const commandDeviceId = (): string => `cd-${randomBytes(5).toString('hex')}`;
