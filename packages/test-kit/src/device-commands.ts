/**
 * @module Signed commands as the cloud sends them (the command contract, docs/actions.md): a downlink
 * message `ev: "cmd"` for one device, signed with its downlink key, always with an `exp`, body
 * `{id, cmd}`. Tests of the board side (emulated board, posix WAMR board, gateway, `ferry board run`) sign
 * with this instead of a cloud; `decodeAck` reads the board's `cmd.ack` answer.
 */
import { decode, signDownlink, verify, type Json } from '@ferry/message';
import { downlinkKey, hmacKey } from '@ferry/message/node';

export interface CommandInput {
  readonly deviceKey: Uint8Array;
  readonly deviceId: string;
  readonly id: string;
  readonly cmd: Json;
  /** The cloud's (ep, sq) for the device. */
  readonly ep: number;
  readonly sq: number;
  /** Signing time, Unix ms (the board's clock for an emulated board). */
  readonly nowMs: number;
  /** Time to live, ms (default 60 s). */
  readonly ttlMs?: number;
  /** Sign for this audience instead of deviceId (a wrong-audience test). */
  readonly aud?: string;
  /** Replace the whole body (malformed-body tests). */
  readonly body?: Json;
}

export function signCommand(c: CommandInput): string {
  const r = signDownlink(
    { aud: c.aud ?? c.deviceId, ev: 'cmd', ep: c.ep, sq: c.sq, nowMs: c.nowMs, ttlMs: c.ttlMs ?? 60_000, body: c.body ?? { id: c.id, cmd: c.cmd } },
    downlinkKey(c.deviceKey, c.deviceId),
  );
  if (!r.ok) throw r.error;
  return r.value;
}

/** Flips one character in the signature segment: still well formed, no longer authentic. */
export function tamper(token: string): string {
  const i = token.lastIndexOf('.') + 3;
  return `${token.slice(0, i)}${token[i] === 'A' ? 'B' : 'A'}${token.slice(i + 1)}`;
}

export interface Ack {
  readonly id: string;
  readonly status: string;
  readonly reason?: string;
  readonly ep: number;
  readonly sq: number;
}

/** The `cmd.ack` answers among a board's tokens, each verified with the device key (as the cloud's ingest does). */
export function acksIn(tokens: readonly string[], deviceKey: Uint8Array): Ack[] {
  const key = hmacKey(deviceKey);
  const out: Ack[] = [];
  for (const t of tokens) {
    const m = decode(t);
    if (!m.ok || m.value.claims['ev'] !== 'cmd.ack') continue;
    const v = verify(t, key);
    if (!v.ok) throw new Error(`an answer does not verify: ${v.error.code}`);
    const d = v.value.claims['d'] as { id: string; status: string; reason?: string };
    out.push({ ...d, ep: v.value.header.ep, sq: v.value.header.sq });
  }
  return out;
}
