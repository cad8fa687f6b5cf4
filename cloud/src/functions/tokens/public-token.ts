/**
 * @module Public tokens: compact JWS (RFC 7515 §7.1), HS256, derived from the owner's private token.
 * The owner (or the CLI on their machine) mints them offline with the HKDF-derived key; the cloud
 * verifies them with the same derived key and so refuses any token whose claims were widened or that
 * was re-signed with another owner's key ("an integrity check, so nobody can widen them").
 * Verified with @ferry/message's verifyJws: synchronous, constant-time MAC check, HS256 only (RFC 8725
 * §3.1: "none" and every other alg refused), already the project's JWS code; jose is used only in the
 * tests as an independent cross-check.
 */
import { base64urlEncode, verifyJws, type HmacKey } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { randomBytes } from 'node:crypto';
import { fnFail, fnOk, type FnResult } from '@ferry/wasm-host';
import { derivePublicSigningSecret, OWNER_PATTERN, parsePrivateToken } from './private-token.ts';

export const NAMESPACE_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const HASH = /^[0-9a-f]{64}$/;
const JTI = /^[A-Za-z0-9_-]{8,64}$/;
/** A token must fit the 2048-byte JWS limit of verifyJws, which bounds these lists. */
export const MAX_TOKEN_NAMESPACES = 16;
export const MAX_TOKEN_FUNCTIONS = 12;

export interface Permissions {
  /** Namespaces of the owner this token may call in. */
  readonly namespaces: readonly string[];
  /** Hashes this token may run (each must also be on the namespace's white-list); absent = any white-listed. */
  readonly functions?: readonly string[];
  /** Token bucket: refill rate (calls per second) and size. */
  readonly rate: { readonly perSecond: number; readonly burst: number };
  /** Whether schedules may be created, and their shortest period; absent = no schedules. */
  readonly schedule?: { readonly minPeriodS: number };
}

export interface PublicClaims extends Permissions {
  /** The owner (also the JWS kid). */
  readonly owner: string;
  /** The caller: becomes dev.id inside the function. */
  readonly subject: string;
  readonly jti: string;
  readonly issuedAtS: number;
  readonly expiresAtS: number;
}

export interface MintSpec extends Permissions {
  readonly subject: string;
  readonly ttlS: number;
  readonly jti?: string;
}

const utf8 = new TextEncoder();
const isPosInt = (x: unknown, max: number): x is number => typeof x === 'number' && Number.isInteger(x) && x > 0 && x <= max;
const isStrList = (x: unknown, re: RegExp, max: number): x is string[] =>
  Array.isArray(x) && x.length > 0 && x.length <= max && x.every((s) => typeof s === 'string' && re.test(s));

/** Checks permissions (mint input or verified claims); returns what is wrong, or undefined. */
function checkPermissions(p: { namespaces?: unknown; functions?: unknown; rate?: unknown; schedule?: unknown }): string | undefined {
  if (!isStrList(p.namespaces, NAMESPACE_PATTERN, MAX_TOKEN_NAMESPACES))
    return `namespaces must be 1..${MAX_TOKEN_NAMESPACES} names matching ${NAMESPACE_PATTERN}`;
  if (p.functions !== undefined && !isStrList(p.functions, HASH, MAX_TOKEN_FUNCTIONS)) return `functions must be 1..${MAX_TOKEN_FUNCTIONS} SHA-256 hex hashes`;
  const r = p.rate as { perSecond?: unknown; burst?: unknown } | undefined;
  if (typeof r !== 'object' || r === null || !isPosInt(r.perSecond, 1_000_000) || !isPosInt(r.burst, 1_000_000))
    return 'rate must be {perSecond, burst}, positive integers';
  if (p.schedule !== undefined && !isPosInt((p.schedule as { minPeriodS?: unknown }).minPeriodS, 31_536_000))
    return 'schedule.minPeriodS must be a positive integer of seconds';
  return undefined;
}

/**
 * The longest a public token may live, seconds (90 days). A bearer token is handed to devices and tools; a
 * short life bounds what a leaked one is worth, and revocation covers the rest. Mint refuses longer, and a
 * token that claims longer (minted before this bound, or forged by a holder of the key) does not verify.
 */
export const MAX_TOKEN_LIFETIME_S = 90 * 86_400;

/** Mints a public token from a private token. Claims: RFC 7519 iss/sub/jti/iat/exp plus ns, fn, rps, burst, sch. */
export function mintPublicToken(privateToken: string, spec: MintSpec, nowMs: number): FnResult<string> {
  const p = parsePrivateToken(privateToken);
  if (!p.ok) return p;
  const bad =
    checkPermissions(spec) ??
    (OWNER_PATTERN.test(spec.subject) ? undefined : `subject must match ${OWNER_PATTERN}`) ??
    (isPosInt(spec.ttlS, MAX_TOKEN_LIFETIME_S) ? undefined : `ttlS must be a positive integer of seconds, at most ${MAX_TOKEN_LIFETIME_S} (90 days)`) ??
    (spec.jti === undefined || JTI.test(spec.jti) ? undefined : `jti must match ${JTI}`);
  if (bad !== undefined) return fnFail('FERRY_FN_BAD_PERMISSIONS', bad);
  const owner = p.value.owner;
  const iat = Math.floor(nowMs / 1000);
  const claims = {
    iss: owner,
    sub: spec.subject,
    jti: spec.jti ?? randomBytes(12).toString('base64url'),
    iat,
    exp: iat + spec.ttlS,
    ns: spec.namespaces,
    ...(spec.functions && { fn: spec.functions }),
    rps: spec.rate.perSecond,
    burst: spec.rate.burst,
    ...(spec.schedule && { sch: spec.schedule.minPeriodS }),
  };
  return fnOk(signJws({ alg: 'HS256', typ: 'JWT', kid: owner }, claims, hmacKey(derivePublicSigningSecret(p.value.secret, owner))));
}

/** Signs any header and claims as a compact JWS (also used by tests to forge tokens). */
export function signJws(header: object, claims: object, key: HmacKey): string {
  const input = `${base64urlEncode(utf8.encode(JSON.stringify(header)))}.${base64urlEncode(utf8.encode(JSON.stringify(claims)))}`;
  return `${input}.${base64urlEncode(key.mac(utf8.encode(input)))}`;
}

/** The kid of a JWS header, unverified (to pick the key); undefined when unreadable. */
function peekKid(token: string): string | undefined {
  const dot = token.indexOf('.');
  if (dot <= 0 || dot > 512) return undefined;
  try {
    const h: unknown = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8'));
    const kid = (h as { kid?: unknown }).kid;
    return typeof kid === 'string' && OWNER_PATTERN.test(kid) ? kid : undefined;
  } catch {
    return undefined;
  }
}

/** Verifies signature and shape only; expiry and revocation are the caller's (they change over time). */
export function verifyPublicToken(token: string, keyOf: (owner: string) => HmacKey | undefined): FnResult<PublicClaims> {
  const kid = peekKid(token);
  if (kid === undefined) return fnFail('FERRY_FN_BAD_TOKEN', 'not a public token (no readable kid)');
  const key = keyOf(kid);
  if (key === undefined) return fnFail('FERRY_FN_BAD_TOKEN', `unknown owner ${kid}`);
  const v = verifyJws(token, key);
  if (!v.ok) return fnFail('FERRY_FN_BAD_TOKEN', v.error.message, [v.error.code]);
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(v.value.payload)) as Record<string, unknown>;
  } catch {
    return fnFail('FERRY_FN_BAD_TOKEN', 'claims are not UTF-8 JSON');
  }
  if (typeof c !== 'object' || c === null) return fnFail('FERRY_FN_BAD_TOKEN', 'claims are not an object');
  const perms = {
    namespaces: c['ns'],
    functions: c['fn'],
    rate: { perSecond: c['rps'], burst: c['burst'] },
    schedule: c['sch'] === undefined ? undefined : { minPeriodS: c['sch'] },
  };
  const bad =
    checkPermissions(perms) ??
    (c['iss'] === kid ? undefined : 'iss differs from kid') ??
    (typeof c['sub'] === 'string' && OWNER_PATTERN.test(c['sub']) ? undefined : 'bad sub') ??
    (typeof c['jti'] === 'string' && JTI.test(c['jti']) ? undefined : 'bad jti') ??
    (Number.isInteger(c['iat']) && Number.isInteger(c['exp']) ? undefined : 'iat and exp must be integers') ??
    ((c['exp'] as number) - (c['iat'] as number) <= MAX_TOKEN_LIFETIME_S ? undefined : `lives longer than ${MAX_TOKEN_LIFETIME_S} s (90 days)`);
  if (bad !== undefined) return fnFail('FERRY_FN_BAD_TOKEN', bad);
  return fnOk({
    owner: kid,
    subject: c['sub'] as string,
    jti: c['jti'] as string,
    issuedAtS: c['iat'] as number,
    expiresAtS: c['exp'] as number,
    namespaces: perms.namespaces as string[],
    ...(perms.functions !== undefined && { functions: perms.functions as string[] }),
    rate: perms.rate as Permissions['rate'],
    ...(perms.schedule !== undefined && { schedule: perms.schedule as { minPeriodS: number } }),
  });
}
