/**
 * @module Downlink messages (docs/message-format.md "Downlink"): what the cloud sends to one board or
 * gateway, signed so the receiving host can tell it from anything an attacker on the broker publishes.
 * A downlink message is a Ferry message (the same codec, compact JWS HS256) whose source is the cloud
 * (`kid` = `iss` = CLOUD_SOURCE_ID), addressed to one device (`aud`), of one event kind (`ev`), ordered
 * by the cloud's epoch and sequence for that device (`ep`, `sq` in the header), and signed with the
 * device's downlink key: HKDF-SHA256(device key, 'ferry/downlink/v1', device id), derived by the host
 * adapter (`downlinkKey` in `@ferry/message/node`). An uplink, signed with the device key itself, can
 * therefore never verify as a downlink, and a downlink for one device never verifies for another.
 * Pure like the codec: the HMAC is the injected HmacKey port.
 */
import { encode, KID_PATTERN, MAX_UINT32, peek, verify, type Claims, type HmacKey, type Json } from './codec.ts';
import { fail, ok, type Result } from './errors.ts';
import { checkTimeClaims } from './time-claims.ts';

/**
 * The source id the cloud signs downlink messages as (`kid` and `iss`). A device registered under this id
 * gains nothing: a downlink verifies only with the receiving device's own downlink key.
 */
export const CLOUD_SOURCE_ID = 'ferry-cloud';
/** HKDF salt of the downlink key (the key-derivation convention: 'ferry/<purpose>/v1'). */
export const DOWNLINK_SALT = 'ferry/downlink/v1';
/** Known event kinds: a function reply, a namespace state snapshot, and (reserved) a command. */
export const DOWNLINK_EVENTS = ['fn.res', 'ns.state', 'cmd'] as const;
export type DownlinkEvent = (typeof DOWNLINK_EVENTS)[number];
/** Default clock-skew allowance for `exp`, ms. */
export const DOWNLINK_LEEWAY_MS = 30_000;

/** What the cloud says to one device. */
export interface Downlink {
  /** The device (or gateway) id it is for. */
  readonly aud: string;
  readonly ev: DownlinkEvent;
  /** The cloud's epoch for this device: grows across cloud restarts. */
  readonly ep: number;
  /** Sequence within the epoch, per device. */
  readonly sq: number;
  /** When it was signed, NumericDate (seconds). */
  readonly iat: number;
  /** Not accepted on or after this NumericDate (seconds), beyond the leeway; absent: no expiry. */
  readonly exp?: number;
  /** The payload (`d` claim). */
  readonly body: Json;
}

export interface SignDownlinkInput {
  readonly aud: string;
  readonly ev: DownlinkEvent;
  readonly ep: number;
  readonly sq: number;
  /** Signing time, Unix ms (becomes `iat` in seconds). */
  readonly nowMs: number;
  /** Lifetime in ms from nowMs (becomes `exp`); absent: no expiry. */
  readonly ttlMs?: number;
  readonly body: Json;
}

const isEvent = (v: unknown): v is DownlinkEvent => typeof v === 'string' && (DOWNLINK_EVENTS as readonly string[]).includes(v);

/** Signs one downlink message with the device's downlink key. Refuses (FERRY_MSG_ENCODE_INPUT) what would not verify. */
export function signDownlink(m: SignDownlinkInput, key: HmacKey): Result<string> {
  if (!KID_PATTERN.test(m.aud)) return fail('FERRY_MSG_ENCODE_INPUT', 'aud must be a device id (1..32 of [A-Za-z0-9._-])');
  if (!isEvent(m.ev)) return fail('FERRY_MSG_ENCODE_INPUT', `ev must be one of ${DOWNLINK_EVENTS.join(', ')}`);
  if (!Number.isFinite(m.nowMs) || m.nowMs < 0) return fail('FERRY_MSG_ENCODE_INPUT', 'nowMs must be a non-negative number');
  const iat = Math.floor(m.nowMs / 1000);
  const claims: Claims = {
    iss: CLOUD_SOURCE_ID,
    aud: m.aud,
    iat,
    ...(m.ttlMs !== undefined && { exp: Math.ceil((m.nowMs + m.ttlMs) / 1000) }),
    ev: m.ev,
    d: m.body,
  };
  return encode({ header: { kid: CLOUD_SOURCE_ID, ep: m.ep, sq: m.sq }, claims }, key);
}

export interface VerifyDownlinkOptions {
  /** The receiving device's id: the token's `aud` must equal it. */
  readonly aud: string;
  /** The receiver's wall clock, Unix ms, for `exp`. */
  readonly nowMs: number;
  /** Clock-skew allowance for `exp` (default DOWNLINK_LEEWAY_MS). */
  readonly leewayMs?: number;
  /** When given, the event kind expected (else any known kind). */
  readonly ev?: DownlinkEvent;
}

/**
 * Verifies a downlink message for device `o.aud` with its downlink key. Refusals, in this order: the codec's
 * (size, shape, header: FERRY_MSG_*), FERRY_MSG_WRONG_ISSUER (kid is not the cloud: an uplink, or a message
 * of another source), the codec's signature and body checks (FERRY_MSG_BAD_SIGNATURE: altered or signed
 * with another key), FERRY_MSG_WRONG_AUDIENCE (for another device), FERRY_MSG_WRONG_EVENT, FERRY_MSG_EXPIRED.
 * Replays are the receiver's DownlinkWindow's to refuse. Never throws.
 */
export function verifyDownlink(token: string | Uint8Array, key: HmacKey, o: VerifyDownlinkOptions): Result<Downlink> {
  const h = peek(token);
  if (!h.ok) return h;
  if (h.value.kid !== CLOUD_SOURCE_ID) return fail('FERRY_MSG_WRONG_ISSUER', `kid "${h.value.kid}" is not the cloud (${CLOUD_SOURCE_ID})`);
  if (h.value.group !== undefined) return fail('FERRY_MSG_FIELD_RANGE', 'downlink messages are never grouped');
  const v = verify(token, key);
  if (!v.ok) return v;
  const c = v.value.claims;
  if (c['aud'] !== o.aud) return fail('FERRY_MSG_WRONG_AUDIENCE', `aud ${JSON.stringify(c['aud']) ?? 'missing'} is not "${o.aud}"`);
  const ev = c['ev'];
  if (!isEvent(ev) || (o.ev !== undefined && ev !== o.ev))
    return fail('FERRY_MSG_WRONG_EVENT', `ev ${JSON.stringify(ev) ?? 'missing'} is not ${o.ev ?? DOWNLINK_EVENTS.join(' | ')}`);
  const t = checkTimeClaims(c, o.nowMs / 1000, (o.leewayMs ?? DOWNLINK_LEEWAY_MS) / 1000);
  if (!t.ok) return t;
  const exp = c['exp'];
  const body = c['d'];
  return ok({
    aud: o.aud,
    ev,
    ep: v.value.header.ep,
    sq: v.value.header.sq,
    iat: c.iat,
    ...(typeof exp === 'number' && { exp }),
    body: body === undefined ? null : body,
  });
}

/** The serialised form of a DownlinkWindow: the highest (ep, sq) accepted per event kind. */
export interface DownlinkWindowState {
  readonly v: 1;
  readonly high: { readonly [ev: string]: readonly [number, number] };
}

const isU32 = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= MAX_UINT32;

/**
 * Refuses replays: per event kind, only a pair (ep, sq) greater than the highest accepted so far passes. Kinds
 * are kept apart because they travel on different topics, and a broker orders messages per topic only; the
 * cloud's counter is per device across kinds, so each kind sees an increasing subsequence. A host persists
 * `toJSON()` (a few bytes) so a replay stays refused across its restarts.
 */
export class DownlinkWindow {
  readonly #high = new Map<string, readonly [number, number]>();

  /** Whether (ep, sq) is newer than everything accepted for `ev` (does not record it). */
  fresh(ev: string, ep: number, sq: number): boolean {
    const h = this.#high.get(ev);
    return h === undefined || ep > h[0] || (ep === h[0] && sq > h[1]);
  }

  /** Records (ep, sq) for `ev` if it is fresh; false for a replay or an older message. */
  accept(ev: string, ep: number, sq: number): boolean {
    if (!isU32(ep) || !isU32(sq) || !this.fresh(ev, ep, sq)) return false;
    this.#high.set(ev, [ep, sq]);
    return true;
  }

  toJSON(): DownlinkWindowState {
    return { v: 1, high: Object.fromEntries(this.#high) };
  }

  /** Restores a persisted window; anything malformed is skipped (that kind starts afresh). */
  static from(state: unknown): DownlinkWindow {
    const w = new DownlinkWindow();
    const high = (state as Partial<DownlinkWindowState> | null)?.high;
    if (typeof high !== 'object' || high === null) return w;
    for (const [ev, pair] of Object.entries(high))
      if (Array.isArray(pair) && pair.length === 2 && isU32(pair[0]) && isU32(pair[1])) w.#high.set(ev, [pair[0], pair[1]]);
    return w;
  }
}
