/**
 * @module The Ferry envelope: a JWT-compatible compact JWS (RFC 7515 §7.1, RFC 7519) signed with HS256,
 * whose header carries the source (kid), boot epoch (ep), sequence (sq) and optional group, so a server
 * orders events from the header alone. Pure: no node: imports; the HMAC is an injected port.
 * Every function returns a Result and never throws on any input.
 */
import { decodeInto, decodeRange, decodedLength, encodeInto, encodedLength } from './base64url.ts';
import { fail, ok, type Result } from './errors.ts';

/** Largest token accepted or produced, in bytes; equals the ABI's LIMITS.emitMax (tested). */
export const MAX_TOKEN_BYTES = 2048;
export const MAX_UINT32 = 0xffff_ffff;
export const MAX_GROUP_PARTS = 1024;
export const KID_PATTERN = /^[A-Za-z0-9._-]{1,32}$/;

export type Json = null | boolean | number | string | readonly Json[] | { readonly [k: string]: Json };

export interface Group {
  /** Group id, unique per source and epoch. */
  readonly id: number;
  /** Zero-based part index. */
  readonly part: number;
  /** Number of parts, 1..MAX_GROUP_PARTS. */
  readonly parts: number;
}

/** What a server needs to order an event, readable without touching the body. */
export interface FerryHeader {
  readonly kid: string;
  readonly ep: number;
  readonly sq: number;
  readonly group?: Group;
}

export interface Claims {
  readonly iss: string;
  readonly iat: number;
  readonly [claim: string]: Json;
}

export interface Message {
  readonly header: FerryHeader;
  readonly claims: Claims;
}

/** An HMAC-SHA256 key held by the host. `mac` returns the 32-byte tag of `data`. */
export interface HmacKey {
  readonly mac: (data: Uint8Array) => Uint8Array;
}
export type KeyLookup = (kid: string) => HmacKey | undefined;

const DOT = 0x2e;
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const ascii = new TextDecoder('latin1');

type Segments = { readonly bytes: Uint8Array; readonly d1: number; readonly d2: number };

/*
 * Scratch buffers for the hot path: V8 allocates typed arrays over 64 bytes off-heap, which costs more
 * than decoding a segment, so text input and decoded segments reuse these. A key lookup may call back
 * into this module (re-entrancy), so nested calls get fresh buffers.
 */
const SCRATCH_TOKEN = new Uint8Array(MAX_TOKEN_BYTES * 3);
const SCRATCH_SEGMENT = new Uint8Array(MAX_TOKEN_BYTES);
let depth = 0;
const tokenBuffer = (): Uint8Array => (depth > 1 ? new Uint8Array(MAX_TOKEN_BYTES * 3) : SCRATCH_TOKEN);
const segmentBuffer = (): Uint8Array => (depth > 1 ? new Uint8Array(MAX_TOKEN_BYTES) : SCRATCH_SEGMENT);

function split(token: string | Uint8Array): Result<Segments> {
  if (typeof token === 'string' && token.length > MAX_TOKEN_BYTES) return fail('FERRY_MSG_TOO_LARGE', `${token.length} characters > ${MAX_TOKEN_BYTES}`);
  let bytes: Uint8Array;
  if (typeof token === 'string') {
    const buf = tokenBuffer();
    // Tokens are ASCII: a plain loop beats TextEncoder.encodeInto for a few hundred characters.
    let i = 0;
    for (; i < token.length; i++) {
      const c = token.charCodeAt(i);
      if (c > 0x7f) break;
      buf[i] = c;
    }
    bytes = i === token.length ? buf.subarray(0, i) : buf.subarray(0, utf8.encodeInto(token, buf).written);
  } else bytes = token;
  if (bytes.length > MAX_TOKEN_BYTES) return fail('FERRY_MSG_TOO_LARGE', `${bytes.length} bytes > ${MAX_TOKEN_BYTES}`);
  const d1 = bytes.indexOf(DOT);
  const d2 = d1 < 0 ? -1 : bytes.indexOf(DOT, d1 + 1);
  if (d1 < 0 || d2 < 0 || bytes.indexOf(DOT, d2 + 1) >= 0) {
    let dots = 0;
    for (const b of bytes) if (b === DOT) dots++;
    return fail('FERRY_MSG_SEGMENTS', `expected 3 segments, found ${dots + 1}`);
  }
  return ok({ bytes, d1, d2 });
}

function jsonObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(strictUtf8.decode(bytes));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const isUint32 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_UINT32;

/** Checks alg/typ/crit: the parts of the header every JWS (Ferry or not) must satisfy. */
function checkJose(h: Record<string, unknown>): Result<true> {
  if (h['alg'] !== 'HS256') return fail('FERRY_MSG_ALG', `alg ${JSON.stringify(h['alg']) ?? 'missing'} is not HS256`);
  if (h['typ'] !== undefined && h['typ'] !== 'JWT') return fail('FERRY_MSG_TYP', `typ ${JSON.stringify(h['typ'])} is not "JWT"`);
  if (h['crit'] !== undefined) return fail('FERRY_MSG_CRIT', 'crit extensions are not supported');
  return ok(true);
}

function ferryHeader(h: Record<string, unknown>): Result<FerryHeader> {
  for (const f of ['kid', 'ep', 'sq'] as const) if (h[f] === undefined) return fail('FERRY_MSG_MISSING_FIELD', `header field ${f} is missing`);
  const { kid, ep, sq, grp, part, parts } = h;
  if (typeof kid !== 'string' || !KID_PATTERN.test(kid)) return fail('FERRY_MSG_FIELD_RANGE', 'kid must be 1..32 characters of [A-Za-z0-9._-]');
  if (!isUint32(ep)) return fail('FERRY_MSG_FIELD_RANGE', `ep ${JSON.stringify(ep)} is not an integer in 0..${MAX_UINT32}`);
  if (!isUint32(sq)) return fail('FERRY_MSG_FIELD_RANGE', `sq ${JSON.stringify(sq)} is not an integer in 0..${MAX_UINT32}`);
  if (grp === undefined && part === undefined && parts === undefined) return ok({ kid, ep, sq });
  if (!isUint32(grp)) return fail('FERRY_MSG_FIELD_RANGE', 'grp must be an integer in 0..2^32-1 and comes with part and parts');
  if (!isUint32(parts) || parts < 1 || parts > MAX_GROUP_PARTS) return fail('FERRY_MSG_FIELD_RANGE', `parts must be an integer in 1..${MAX_GROUP_PARTS}`);
  if (!isUint32(part) || part >= parts) return fail('FERRY_MSG_FIELD_RANGE', 'part must be an integer in 0..parts-1');
  return ok({ kid, ep, sq, group: { id: grp, part, parts } });
}

type ParsedHeader = { readonly seg: Segments; readonly raw: Record<string, unknown> };

function parseHeader(token: string | Uint8Array): Result<ParsedHeader> {
  const s = split(token);
  if (!s.ok) return s;
  const hb = decodeRange(s.value.bytes, 0, s.value.d1);
  if (hb === undefined) return fail('FERRY_MSG_HEADER_ENCODING', 'header is not canonical base64url');
  const raw = jsonObject(hb);
  if (raw === undefined) return fail('FERRY_MSG_HEADER_JSON', 'header is not a UTF-8 JSON object');
  const j = checkJose(raw);
  if (!j.ok) return j;
  return ok({ seg: s.value, raw });
}

const KID_CHAR = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-') KID_CHAR[c.charCodeAt(0)] = 1;
const lit = (b: Uint8Array, i: number, n: number, text: string): number => {
  if (i + text.length > n) return -1;
  for (let k = 0; k < text.length; k++) if (b[i + k] !== text.charCodeAt(k)) return -1;
  return i + text.length;
};

/**
 * Reads the header when it is spelt exactly as Ferry writers spell it (docs/message-format.md:
 * alg, typ, kid, ep, sq[, grp, part, parts], no white space), without JSON.parse. Any other spelling
 * returns undefined and takes the general JSON path, which gives the same result or a typed error.
 */
function canonicalHeader(b: Uint8Array, n: number): FerryHeader | undefined {
  let i = lit(b, 0, n, '{"alg":"HS256","typ":"JWT","kid":"');
  if (i < 0) return undefined;
  let kid = '';
  while (i < n && KID_CHAR[b[i]!] === 1) kid += String.fromCharCode(b[i++]!);
  if (kid.length === 0 || kid.length > 32 || b[i] !== 0x22) return undefined;
  i = uintAt(b, lit(b, i + 1, n, ',"ep":'), n);
  if (i < 0) return undefined;
  const ep = uintValue;
  i = uintAt(b, lit(b, i, n, ',"sq":'), n);
  if (i < 0) return undefined;
  const sq = uintValue;
  if (i === n - 1 && b[i] === 0x7d) return { kid, ep, sq };
  i = uintAt(b, lit(b, i, n, ',"grp":'), n);
  if (i < 0) return undefined;
  const id = uintValue;
  i = uintAt(b, lit(b, i, n, ',"part":'), n);
  if (i < 0) return undefined;
  const part = uintValue;
  i = uintAt(b, lit(b, i, n, ',"parts":'), n);
  if (i < 0) return undefined;
  const parts = uintValue;
  if (i !== n - 1 || b[i] !== 0x7d || parts < 1 || parts > MAX_GROUP_PARTS || part >= parts) return undefined;
  return { kid, ep, sq, group: { id, part, parts } };
}

let uintValue = 0;
/** A JSON integer without leading zeros, within uint32, starting at i (-1 passes through); sets uintValue. */
function uintAt(b: Uint8Array, i: number, n: number): number {
  if (i < 0) return -1;
  const st = i;
  let v = 0;
  while (i < n && b[i]! >= 0x30 && b[i]! <= 0x39 && i - st < 11) v = v * 10 + b[i++]! - 0x30;
  if (i === st || (b[st] === 0x30 && i - st > 1) || v > MAX_UINT32) return -1;
  uintValue = v;
  return i;
}

/** Header of a Ferry message: the canonical fast path, else JSON with every check. */
function ferryHeaderOf(token: string | Uint8Array): Result<{ seg: Segments; header: FerryHeader }> {
  const s = split(token);
  if (!s.ok) return s;
  const buf = segmentBuffer();
  const n = decodeInto(s.value.bytes, 0, s.value.d1, buf);
  if (n >= 0) {
    const fast = canonicalHeader(buf, n);
    if (fast !== undefined) return ok({ seg: s.value, header: fast });
  }
  const p = parseHeader(s.value.bytes);
  if (!p.ok) return p;
  const h = ferryHeader(p.value.raw);
  return h.ok ? ok({ seg: p.value.seg, header: h.value }) : h;
}

/** Reads the ordering header without decoding the body or checking the MAC (for routing and re-ordering). */
export function peek(token: string | Uint8Array): Result<FerryHeader> {
  depth++;
  try {
    const p = ferryHeaderOf(token);
    return p.ok ? ok(p.value.header) : p;
  } finally {
    depth--;
  }
}

function checkMac(seg: Segments, key: HmacKey): Result<true> {
  const sig = decodeRange(seg.bytes, seg.d2 + 1, seg.bytes.length);
  if (sig === undefined) return fail('FERRY_MSG_SIGNATURE_ENCODING', 'signature is not canonical base64url');
  if (sig.length !== 32) return fail('FERRY_MSG_SIGNATURE_LENGTH', `signature has ${sig.length} bytes, HS256 needs 32`);
  const expected = key.mac(seg.bytes.subarray(0, seg.d2));
  // Constant-time comparison: no early exit, so timing does not reveal how many bytes matched.
  let diff = expected.length ^ 32;
  for (let i = 0; i < 32; i++) diff |= (expected[i] ?? 0) ^ sig[i]!;
  return diff === 0 ? ok(true) : fail('FERRY_MSG_BAD_SIGNATURE', 'HMAC mismatch');
}

function claimsOf(seg: Segments, header: FerryHeader): Result<Claims> {
  const buf = decodedLength(seg.d2 - seg.d1 - 1) <= MAX_TOKEN_BYTES ? segmentBuffer() : undefined;
  const n = buf === undefined ? -1 : decodeInto(seg.bytes, seg.d1 + 1, seg.d2, buf);
  if (buf === undefined || n < 0) return fail('FERRY_MSG_BODY_ENCODING', 'body is not canonical base64url');
  const body = jsonObject(buf.subarray(0, n));
  if (body === undefined) return fail('FERRY_MSG_BODY_JSON', 'body is not a UTF-8 JSON object');
  if (body['iss'] !== header.kid) return fail('FERRY_MSG_CLAIMS', `iss ${JSON.stringify(body['iss']) ?? 'missing'} does not equal kid "${header.kid}"`);
  const iat = body['iat'];
  if (typeof iat !== 'number' || !Number.isFinite(iat) || iat < 0) return fail('FERRY_MSG_CLAIMS', 'iat must be a non-negative NumericDate');
  return ok(body as unknown as Claims);
}

/** Decodes without checking the MAC: for inspection only, never for trust. */
export function decode(token: string | Uint8Array): Result<Message> {
  depth++;
  try {
    const p = ferryHeaderOf(token);
    if (!p.ok) return p;
    const claims = claimsOf(p.value.seg, p.value.header);
    return claims.ok ? ok({ header: p.value.header, claims: claims.value }) : claims;
  } finally {
    depth--;
  }
}

/**
 * Verifies a Ferry message: size, shape, header, then the MAC (constant-time), and only then the body.
 * `key` is the source's key, or a lookup by kid. Replay and ordering are the ingest pipeline's job.
 */
export function verify(token: string | Uint8Array, key: HmacKey | KeyLookup): Result<Message> {
  depth++;
  try {
    const p = ferryHeaderOf(token);
    if (!p.ok) return p;
    const { seg, header } = p.value;
    const k = typeof key === 'function' ? key(header.kid) : key;
    if (k === undefined) return fail('FERRY_MSG_UNKNOWN_KEY', `no key for kid "${header.kid}"`);
    const mac = checkMac(seg, k);
    if (!mac.ok) return mac;
    const claims = claimsOf(seg, header);
    return claims.ok ? ok({ header, claims: claims.value }) : claims;
  } finally {
    depth--;
  }
}

/** Verifies any HS256 compact JWS (RFC 7515), Ferry fields or not; returns the header and the payload bytes. */
export function verifyJws(token: string | Uint8Array, key: HmacKey): Result<{ header: Record<string, unknown>; payload: Uint8Array }> {
  depth++;
  try {
    return verifyJwsInner(token, key);
  } finally {
    depth--;
  }
}

function verifyJwsInner(token: string | Uint8Array, key: HmacKey): Result<{ header: Record<string, unknown>; payload: Uint8Array }> {
  const p = parseHeader(token);
  if (!p.ok) return p;
  const mac = checkMac(p.value.seg, key);
  if (!mac.ok) return mac;
  const payload = decodeRange(p.value.seg.bytes, p.value.seg.d1 + 1, p.value.seg.d2);
  if (payload === undefined) return fail('FERRY_MSG_BODY_ENCODING', 'payload is not canonical base64url');
  return ok({ header: p.value.raw, payload });
}

/** The canonical header text; the AssemblyScript builder writes exactly these bytes. */
export function headerJson(h: FerryHeader): string {
  const g = h.group === undefined ? '' : `,"grp":${h.group.id},"part":${h.group.part},"parts":${h.group.parts}`;
  return `{"alg":"HS256","typ":"JWT","kid":"${h.kid}","ep":${h.ep},"sq":${h.sq}${g}}`;
}

function checkJsonValue(v: unknown, path: string): string | undefined {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? undefined : `${path} is not a finite number`;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const e = checkJsonValue(v[i], `${path}[${i}]`);
      if (e !== undefined) return e;
    }
    return undefined;
  }
  if (typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      const e = checkJsonValue(x, `${path}.${k}`);
      if (e !== undefined) return e;
    }
    return undefined;
  }
  return `${path} is a ${typeof v}, not JSON`;
}

/** Builds and signs a message. The claims are serialised in their own key order. */
export function encode(msg: Message, key: HmacKey): Result<string> {
  const h = msg.header;
  const hv = ferryHeader({ ...h, ...(h.group && { grp: h.group.id, part: h.group.part, parts: h.group.parts }) });
  if (!hv.ok) return fail('FERRY_MSG_ENCODE_INPUT', hv.error.message);
  if (msg.claims.iss !== h.kid) return fail('FERRY_MSG_ENCODE_INPUT', 'claims.iss must equal header.kid');
  const bad = checkJsonValue(msg.claims, 'claims');
  if (bad !== undefined) return fail('FERRY_MSG_ENCODE_INPUT', bad);
  if (!Number.isFinite(msg.claims.iat) || msg.claims.iat < 0) return fail('FERRY_MSG_ENCODE_INPUT', 'claims.iat must be a non-negative number');
  const hb = utf8.encode(headerJson(h));
  const bb = utf8.encode(JSON.stringify(msg.claims));
  const total = encodedLength(hb.length) + 1 + encodedLength(bb.length) + 1 + 43;
  if (total > MAX_TOKEN_BYTES) return fail('FERRY_MSG_ENCODE_INPUT', `message would be ${total} bytes > ${MAX_TOKEN_BYTES}`);
  const out = new Uint8Array(total);
  let pos = encodeInto(hb, out, 0);
  out[pos++] = DOT;
  pos = encodeInto(bb, out, pos);
  const mac = key.mac(out.subarray(0, pos));
  out[pos++] = DOT;
  encodeInto(mac, out, pos);
  return ok(ascii.decode(out));
}
