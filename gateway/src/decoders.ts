/**
 * @module Sensor payload decoders for the gateway (BTHome v2 adverts, PMS5003 and MH-Z19 UART frames) and
 * the one entry point `ferry decode <kind> <hex>` uses: decode(kind, bytes, opts) dispatches through one
 * table and returns a DecodeResult; nothing here throws. The UART decoders live in gateway/src/decoders/,
 * the BTHome code in gateway/src/bthome/, and both are re-exported here unchanged. This entry sits above
 * the two folders because BTHome builds on what decoders/ holds for every decoder (the DecodeResult
 * catalog, hex), so folders import one way: this file -> bthome/ -> decoders/.
 */
import { decodeBthome, type BthomeAdvert } from './bthome/decoder.ts';
import { fail, type DecodeResult } from './decoders/errors.ts';
import { decodeMhz19Frame, type Mhz19Message } from './decoders/mhz19.ts';
import { decodePmsFrame, type PmsReading } from './decoders/pms5003.ts';
import type { ReplayGuard } from './bthome/replay-guard.ts';

export * from './decoders/errors.ts';
export { hexReplacer, parseHex, toHex } from './decoders/hex.ts';
export * from './bthome/decoder.ts';
export * from './bthome/objects.ts';
export { parseMac, formatMac } from './bthome/crypto.ts';
export * from './bthome/encoder.ts';
export { ReplayGuard } from './bthome/replay-guard.ts';
export { StreamFramer, type FramerStats, type FrameFormat } from './decoders/framer.ts';
export * from './decoders/pms5003.ts';
export * from './decoders/mhz19.ts';

export const DECODER_KINDS = ['bthome', 'pms5003', 'mhz19'] as const;
export type DecoderKind = (typeof DECODER_KINDS)[number];

export interface DecodeOptions {
  /** BTHome bind key (16 bytes). */
  readonly key?: Uint8Array | undefined;
  /** BTHome advertiser MAC, "AA:BB:CC:DD:EE:FF". */
  readonly mac?: string | undefined;
  /** BTHome anti-replay state, consulted after the MIC verifies. */
  readonly replay?: ReplayGuard | undefined;
  /** BTHome: accept object ids out of numerical order (see BthomeDecodeOptions). */
  readonly allowUnordered?: boolean | undefined;
}

/** What each kind decodes to. */
export interface DecodedByKind {
  readonly bthome: BthomeAdvert;
  readonly pms5003: PmsReading;
  readonly mhz19: Mhz19Message;
}

export const isDecoderKind = (kind: string): kind is DecoderKind => (DECODER_KINDS as readonly string[]).includes(kind);

const DECODERS: { readonly [K in DecoderKind]: (bytes: Uint8Array, opts: DecodeOptions) => DecodeResult<DecodedByKind[K]> } = {
  bthome: (bytes, opts) => decodeBthome(bytes, opts),
  // One whole frame each; use Pms5003Framer / Mhz19Framer for byte streams.
  pms5003: (bytes) => decodePmsFrame(bytes),
  mhz19: (bytes) => decodeMhz19Frame(bytes),
};

/**
 * Decodes one BTHome service data payload, PMS5003 frame or MH-Z19 frame. `kind` may be any string (it
 * comes from the command line); an unknown one is FERRY_DECODE_UNKNOWN_KIND.
 */
export function decode<K extends DecoderKind>(kind: K, bytes: Uint8Array, opts?: DecodeOptions): DecodeResult<DecodedByKind[K]>;
export function decode(kind: string, bytes: Uint8Array, opts?: DecodeOptions): DecodeResult<DecodedByKind[DecoderKind]>;
export function decode(kind: string, bytes: Uint8Array, opts: DecodeOptions = {}): DecodeResult<DecodedByKind[DecoderKind]> {
  if (!isDecoderKind(kind)) {
    return fail('FERRY_DECODE_UNKNOWN_KIND', `unknown decoder ${JSON.stringify(kind)}; expected one of ${DECODER_KINDS.join(', ')}`);
  }
  return DECODERS[kind](bytes, opts);
}
