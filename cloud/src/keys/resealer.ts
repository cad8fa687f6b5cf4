/**
 * @module Re-sealing one stored secret from the old master key to the new one, for each kind the cloud seals
 * (devices/registry.ts device keys, tokens/sealed-secret.ts owners' signing secrets, storage/codecs.ts
 * schedule tokens, notify/config.ts notification channel secrets, compose/callback-store.ts composite-stream
 * callback secrets), in the stored form each store keeps (a BLOB, JSON text on Redis and in the schedule and
 * channel tables, a prefixed base64 text for callbacks). Each method is idempotent: it tries the new key first, so a row already re-sealed by an interrupted
 * run is left as it is. Each answers the new stored form, `null` when the row is already sealed under the new
 * key (or holds nothing sealed), or `undefined` when it opens under neither key.
 */
import { SecretSealer } from '../functions/tokens/sealed-secret.ts';
import { openDeviceKey, sealDeviceKey } from '../devices/registry.ts';
import { scheduleSealer } from '../storage/codecs.ts';
import { channelAad, notifySealer } from '../notify/config.ts';
import { callbackSealer, SEALED } from '../compose/callback-store.ts';

type Outcome<T> = T | null | undefined;

interface Pair<K> {
  readonly from: K | undefined;
  readonly to: K;
}

export class Resealer {
  readonly #master: Pair<Uint8Array>;
  readonly #owner: Pair<SecretSealer>;
  readonly #schedule: Pair<SecretSealer>;
  readonly #channel: Pair<SecretSealer>;
  readonly #callback: Pair<SecretSealer>;

  /** `from` undefined: only checks that rows are sealed under `to` (the new key is already in place). */
  constructor(from: Uint8Array | undefined, to: Uint8Array) {
    this.#master = { from, to };
    this.#owner = { from: from && new SecretSealer(from), to: new SecretSealer(to) };
    this.#schedule = { from: from && scheduleSealer(from), to: scheduleSealer(to) };
    this.#channel = { from: from && notifySealer(from), to: notifySealer(to) };
    this.#callback = { from: from && callbackSealer(from), to: callbackSealer(to) };
  }

  /** A notification channel's stored JSON (cloud.db `notify_channels.body`, the Redis hash `{notify}:ch`); one without a secret holds nothing sealed. */
  channel(text: string): Outcome<string> {
    const c = parseObject(text);
    if (c === undefined || typeof c['id'] !== 'string') return undefined;
    const sealed = c['sealedSecret'];
    if (sealed === undefined) return null;
    if (typeof sealed !== 'string') return undefined;
    const aad = channelAad({ id: c['id'], owner: typeof c['owner'] === 'string' ? c['owner'] : undefined });
    const out = reseal(
      this.#channel,
      (k, b) => k.open(aad, b),
      (k, secret) => k.seal(aad, secret),
      Buffer.from(sealed, 'base64'),
    );
    return out && JSON.stringify({ ...c, sealedSecret: out.toString('base64') });
  }

  /** A callback subscription's stored secret (`so_subscriptions.secret`); one kept in clear (stored without a master key) is sealed now. */
  callback(id: string, stored: string): Outcome<string> {
    if (!stored.startsWith(SEALED)) return SEALED + this.#callback.to.seal(id, Buffer.from(stored)).toString('base64');
    const out = reseal(
      this.#callback,
      (k, b) => k.open(id, b),
      (k, secret) => k.seal(id, secret),
      Buffer.from(stored.slice(SEALED.length), 'base64'),
    );
    return out && SEALED + out.toString('base64');
  }

  device(id: string, sealed: Uint8Array): Outcome<Buffer> {
    return reseal(
      this.#master,
      (k, s) => openDeviceKey(k, id, s),
      (k, secret) => sealDeviceKey(k, id, secret),
      sealed,
    );
  }

  /** fn_owner.sealed_secret, and the `s` of a Redis owner record (base64). */
  owner(owner: string, sealed: Uint8Array): Outcome<Buffer> {
    return reseal(
      this.#owner,
      (k, s) => k.open(owner, s),
      (k, secret) => k.seal(owner, secret),
      sealed,
    );
  }

  /** A Redis owner record: JSON `{v, s, t}`, `s` the sealed secret in base64 (storage/redis/owner-store.ts). */
  redisOwner(owner: string, text: string): Outcome<string> {
    const rec = parseObject(text);
    if (rec === undefined || typeof rec['s'] !== 'string') return undefined;
    const out = this.owner(owner, Buffer.from(rec['s'], 'base64'));
    return out && JSON.stringify({ ...rec, s: out.toString('base64') });
  }

  /**
   * A schedule's stored JSON (storage/codecs.ts encodeSchedule): its `sealedToken` re-sealed; a token stored in
   * clear (a schedule written without a master key) is sealed now; a schedule without a token is left alone.
   */
  schedule(text: string): Outcome<string> {
    const s = parseObject(text);
    if (s === undefined || typeof s['id'] !== 'string') return undefined;
    const aad = `schedule:${s['id']}`;
    const sealed = s['sealedToken'];
    if (sealed === undefined) {
      if (typeof s['token'] !== 'string') return null;
      const { token, ...rest } = s;
      return JSON.stringify({ ...rest, sealedToken: this.#schedule.to.seal(aad, new TextEncoder().encode(token)).toString('base64') });
    }
    if (typeof sealed !== 'string') return undefined;
    const out = reseal(
      this.#schedule,
      (k, b) => k.open(aad, b),
      (k, secret) => k.seal(aad, secret),
      Buffer.from(sealed, 'base64'),
    );
    return out && JSON.stringify({ ...s, sealedToken: out.toString('base64') });
  }
}

/** Whether a schedule's stored JSON (already parsed by `Resealer.schedule`) holds a sealed token. */
export const scheduleIsSealed = (text: string): boolean => typeof parseObject(text)?.['sealedToken'] === 'string';
/** Whether a channel's stored JSON holds a sealed secret (an MQTT channel holds none). */
export const channelIsSealed = (text: string): boolean => typeof parseObject(text)?.['sealedSecret'] === 'string';

function reseal<K>(
  keys: Pair<K>,
  open: (k: K, sealed: Uint8Array) => Uint8Array | undefined,
  seal: (k: K, secret: Uint8Array) => Buffer,
  sealed: Uint8Array,
): Outcome<Buffer> {
  if (open(keys.to, sealed) !== undefined) return null;
  if (keys.from === undefined) return undefined;
  const secret = open(keys.from, sealed);
  return secret === undefined ? undefined : seal(keys.to, secret);
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
