/**
 * @module How a persistent store keeps the message reference `R` a ReorderStore holds until release. The
 * pipeline's R is an Arrival: the verified, decoded `Message` (`{header, claims}`, JSON by construction:
 * @ferry/message's codec only accepts JSON claims) and the topic it arrived on, so the default codec is
 * JSON. Stores keep the ENCODED string while a message waits (the SQLite store runs reorderStep over
 * strings, the Lua script never parses it) and decode only what they release, once.
 */
import type { Message } from '@ferry/message';
import type { Arrival } from '../ingest/ports.ts';
import type { Released } from '../ingest/reorder-types.ts';
import { StoreError } from './errors.ts';

export interface RefCodec<R> {
  /** Must be a string that `decode` turns back into an equal R. */
  readonly encode: (ref: R) => string;
  readonly decode: (text: string) => R;
}

/**
 * JSON. Round-trips every JSON value exactly (finite doubles print shortest-round-trip, ECMA-262 §6.1.6.1.20),
 * except -0, which becomes 0. `undefined` and functions are refused rather than silently dropped.
 */
export function jsonCodec<R>(): RefCodec<R> {
  return {
    encode: (ref) => {
      const s = JSON.stringify(ref) as string | undefined;
      if (typeof s !== 'string') throw new StoreError('FERRY_STORE_REF', `a message reference of type ${typeof ref} is not JSON`);
      return s;
    },
    decode: (text) => JSON.parse(text) as R,
  };
}

/**
 * The pipeline's refs, as JSON. A ref that is a bare Message reads back as an Arrival without a topic (its
 * events then reach no rule, which needs one), so a buffer written by an older cloud still drains.
 */
export function arrivalCodec(): RefCodec<Arrival> {
  const json = jsonCodec<Arrival | Message>();
  return {
    encode: json.encode,
    decode: (text) => {
      const v = json.decode(text);
      return 'message' in v ? v : { message: v };
    },
  };
}

/** Encodes with `codec`, turning a codec failure into FERRY_STORE_REF. */
export function encodeRef<R>(codec: RefCodec<R>, ref: R): string {
  try {
    return codec.encode(ref);
  } catch (e) {
    if (e instanceof StoreError) throw e;
    throw new StoreError('FERRY_STORE_REF', `cannot encode a message reference: ${String(e)}`, e);
  }
}

export function decodeRef<R>(codec: RefCodec<R>, text: string): R {
  try {
    return codec.decode(text);
  } catch (e) {
    throw new StoreError('FERRY_STORE_REF', `cannot decode a stored message reference: ${String(e)}`, e);
  }
}

/** Decodes the refs of what a step released over encoded refs (messages and group members). */
export function decodeReleased<R>(codec: RefCodec<R>, rs: readonly Released<string>[]): Released<R>[] {
  return rs.map((r): Released<R> => {
    if (r.type === 'gap') return r;
    if (r.type === 'message') return { ...r, ref: decodeRef(codec, r.ref) };
    return { ...r, members: r.members.map((m) => ({ ...m, ref: decodeRef(codec, m.ref) })) };
  });
}
