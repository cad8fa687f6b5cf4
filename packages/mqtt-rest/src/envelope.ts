/**
 * @module How a control request or reply travels: as one or more Ferry messages MACed with the gateway's
 * control key (keys.ts), each binding its direction, its gateway and its request id in the claims, so no
 * part can be taken for the other direction, for another gateway or for another request
 * (docs/gateway.md, "The control protocol").
 *
 * Payloads larger than one envelope (2 KiB) travel as a GROUP of messages (header grp/part/parts, the
 * envelope's own multi-part mechanism): the JSON text is cut into base64 chunks of CHUNK bytes, one per
 * part, and reassembled by group and request id on the other side. A relocation object with its window
 * state is typically a few kilobytes.
 */
import { randomBytes } from 'node:crypto';
import { encode, verify, type FerryHeader, type HmacKey, type MessageErrorCode } from '@ferry/message';
import type { ControlErrorCode } from './errors.ts';

const CHUNK = 800;

/** The direction claim (`ev`): a request's MAC never verifies a reply, nor the other way round. */
export type Direction = 'ctl-req' | 'ctl-res';

/** Request ids: 128 random bits, base64url (22 characters); the gateway takes 22..64 such characters. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9_-]{22,64}$/;
export const newRequestId = (): string => randomBytes(16).toString('base64url');

export interface Sender {
  readonly kid: string;
  readonly ep: number;
  sq: number;
  group: number;
}

/** What every part of a request or reply binds under its MAC, besides its header and timestamp. */
export interface Binding {
  readonly ev: Direction;
  /** The gateway the request goes to (and the reply comes from). */
  readonly gw: string;
  /** The request id (a reply carries the id of the request it answers). */
  readonly rid: string;
}

/** Seals `value` as the parts of one request or reply. */
export function seal(sender: Sender, key: HmacKey, b: Binding, value: unknown, nowMs: number): string[] {
  const bytes = Buffer.from(JSON.stringify(value));
  const parts = Math.max(1, Math.ceil(bytes.length / CHUNK));
  const id = sender.group++;
  const out: string[] = [];
  for (let i = 0; i < parts; i++) {
    const header =
      parts === 1 ? { kid: sender.kid, ep: sender.ep, sq: sender.sq++ } : { kid: sender.kid, ep: sender.ep, sq: sender.sq++, group: { id, part: i, parts } };
    const c = bytes.subarray(i * CHUNK, (i + 1) * CHUNK).toString('base64');
    const t = encode({ header, claims: { iss: sender.kid, iat: Math.floor(nowMs / 1000), ev: b.ev, gw: b.gw, rid: b.rid, d: { c } } }, key);
    if (!t.ok) throw t.error;
    out.push(t.value);
  }
  return out;
}

/** One verified part. */
export interface Part {
  readonly header: FerryHeader;
  /** Seconds (the message's iat). */
  readonly iat: number;
  readonly rid: string;
  readonly chunk: string;
}

export type Opened = { readonly ok: true; readonly part: Part } | { readonly ok: false; readonly code: ControlErrorCode | MessageErrorCode };

/**
 * Verifies one part with `key` and checks its binding: the direction and gateway expected here, and a
 * well-formed request id. Nothing of an unverified part is looked at.
 */
export function openPart(payload: Uint8Array, key: HmacKey, expect: { readonly ev: Direction; readonly gw: string }): Opened {
  const r = verify(payload, key);
  if (!r.ok) return { ok: false, code: r.error.code };
  const { ev, gw, rid, d } = r.value.claims;
  if (ev !== expect.ev) return { ok: false, code: 'FERRY_CTL_DIRECTION' };
  if (gw !== expect.gw) return { ok: false, code: 'FERRY_CTL_WRONG_GATEWAY' };
  const chunk = typeof d === 'object' && d !== null && !Array.isArray(d) ? (d as { c?: unknown }).c : undefined;
  if (typeof rid !== 'string' || !REQUEST_ID_PATTERN.test(rid) || typeof chunk !== 'string')
    return { ok: false, code: expect.ev === 'ctl-req' ? 'FERRY_CTL_BAD_REQUEST' : 'FERRY_CTL_BAD_REPLY' };
  return { ok: true, part: { header: r.value.header, iat: r.value.claims.iat, rid, chunk } };
}

/** Groups open at once, and how long an incomplete one is kept. */
const MAX_OPEN = 64;
const ABANDON_MS = 30_000;

/** Collects the parts of grouped messages; returns the whole value once every part is in (throws on bad JSON). */
export class Reassembler {
  private readonly open = new Map<string, { parts: (string | undefined)[]; atMs: number }>();
  add(p: Part, nowMs: number): unknown {
    const text = (chunks: string[]): unknown => JSON.parse(Buffer.concat(chunks.map((x) => Buffer.from(x, 'base64'))).toString());
    const g = p.header.group;
    if (g === undefined) return text([p.chunk]);
    for (const [k, v] of this.open) if (nowMs - v.atMs > ABANDON_MS) this.open.delete(k);
    // Keyed by the request id too: a part of another request can never complete this one.
    const key = `${p.header.kid}/${p.header.ep}/${g.id}/${p.rid}`;
    const entry = this.open.get(key) ?? { parts: new Array<string | undefined>(g.parts).fill(undefined), atMs: nowMs };
    if (entry.parts.length !== g.parts) return undefined;
    entry.parts[g.part] = p.chunk;
    if (!this.open.has(key) && this.open.size >= MAX_OPEN) this.open.delete(this.open.keys().next().value!);
    this.open.set(key, entry);
    if (entry.parts.some((x) => x === undefined)) return undefined;
    this.open.delete(key);
    return text(entry.parts as string[]);
  }
}
