/**
 * @module Re-sealing one stored secret from the old master key to the new one, for each kind the cloud seals
 * (devices/registry.ts device keys, tokens/sealed-secret.ts owners' signing secrets, storage/codecs.ts
 * schedule tokens), in the stored form each store keeps (a BLOB, or JSON text on Redis and in the schedule
 * table). Each method is idempotent: it tries the new key first, so a row already re-sealed by an interrupted
 * run is left as it is. Each answers the new stored form, `null` when the row is already sealed under the new
 * key (or holds nothing sealed), or `undefined` when it opens under neither key.
 */
import { SecretSealer } from '../functions/tokens/sealed-secret.ts';
import { openDeviceKey, sealDeviceKey } from '../devices/registry.ts';
import { scheduleSealer } from '../storage/codecs.ts';

type Outcome<T> = T | null | undefined;

interface Pair<K> {
  readonly from: K | undefined;
  readonly to: K;
}

export class Resealer {
  readonly #master: Pair<Uint8Array>;
  readonly #owner: Pair<SecretSealer>;
  readonly #schedule: Pair<SecretSealer>;

  /** `from` undefined: only checks that rows are sealed under `to` (the new key is already in place). */
  constructor(from: Uint8Array | undefined, to: Uint8Array) {
    this.#master = { from, to };
    this.#owner = { from: from && new SecretSealer(from), to: new SecretSealer(to) };
    this.#schedule = { from: from && scheduleSealer(from), to: scheduleSealer(to) };
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
