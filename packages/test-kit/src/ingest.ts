/**
 * @module Helpers for the cloud ingest's tests: signed tokens made with @ferry/message (real HMACs, one
 * fixed key per source id), and a fold of `reorderStep` over a list of messages with a compact spelling of
 * what it released. Time comes from ./clock.ts.
 */
import { encode, type Group, type HmacKey, type Message } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { reorderStep, type Released, type ReorderConfig, type ReorderState, type SeqOutcome } from '@ferry/cloud/ingest';

const keyCache = new Map<string, HmacKey>();
export const keyOf = (kid: string): HmacKey => keyCache.get(kid) ?? keyCache.set(kid, makeKey(kid)).get(kid)!;
const makeKey = (kid: string): HmacKey => hmacKey(new Uint8Array(32).map((_, i) => (i * 7 + kid.length * 13 + kid.charCodeAt(0)) & 0xff));

/** One signed token for (kid, ep, sq[, group]); `d` defaults to the seq so values are easy to check. */
export function token(kid: string, ep: number, sq: number, group?: Group, d: unknown = { sq }): string {
  const m: Message = {
    header: group === undefined ? { kid, ep, sq } : { kid, ep, sq, group },
    claims: { iss: kid, iat: 1_767_225_600 + sq, ev: 'tel', d: d as never },
  };
  const t = encode(m, keyOf(kid));
  if (!t.ok) throw t.error;
  return t.value;
}

export type Msg = { ep: number; sq: number; group?: Group; at?: number };

/** Feeds `msgs` to reorderStep one after another; returns the outcomes, everything released and the state. */
export function fold(
  cfg: ReorderConfig,
  msgs: readonly Msg[],
  start?: ReorderState<string>,
): { outcomes: SeqOutcome[]; released: Released<string>[]; state: ReorderState<string> | undefined } {
  let state = start;
  const outcomes: SeqOutcome[] = [];
  const released: Released<string>[] = [];
  for (const m of msgs) {
    const r = reorderStep(state, { ep: m.ep, sq: m.sq, group: m.group, ref: `${m.ep}:${m.sq}` }, m.at ?? 0, cfg);
    state = r.state;
    outcomes.push(r.outcome);
    released.push(...r.released);
  }
  return { outcomes, released, state };
}

/** Compact spelling of releases for assertions: "1:3" message, "gap 1:[4,6)", "grp 1#7 [0,1] -[2] timeout". */
export function brief<R>(rs: readonly Released<R>[]): string[] {
  return rs.map((r) => {
    if (r.type === 'message') return `${r.ep}:${r.sq}`;
    if (r.type === 'gap') return `gap ${r.ep}:[${r.from},${r.to})`;
    return `grp ${r.ep}#${r.id} [${r.members.map((m) => m.part).join(',')}]${r.complete ? '' : ` -[${r.missing.join(',')}]`} ${r.reason}`;
  });
}
