/** @module `ferry decode`: decode a sensor payload from hex (BTHome v2 advert, PMS5003 or MH-Z19 frame). */
import { Command } from 'commander';
import { DECODER_KINDS, ReplayGuard, decode, hexReplacer, parseHex } from '@ferry/gateway/decoders';
import { intOption } from './key.ts';
import { UsageError } from './usage.ts';
import type { Io } from './io.ts';

export function decodeCommand(io: Io, setCode: (c: number) => void): Command {
  return new Command('decode')
    .description(`decode a sensor payload given in hex: ${DECODER_KINDS.join(' | ')}; prints JSON, or a typed error naming what is wrong`)
    .argument('<kind>', DECODER_KINDS.join(' | '))
    .argument('<hex>', 'the payload: BTHome service data (UUID 0xFCD2), or one serial frame')
    .option('--key <hex>', 'BTHome bind key (16 bytes) for encrypted adverts')
    .option('--mac <addr>', 'BTHome advertiser address AA:BB:CC:DD:EE:FF (part of the encryption nonce; not needed when the advert carries it)')
    .option('--last-counter <n>', 'BTHome: last accepted counter for this MAC; a counter not above it is refused as replayed')
    .option('--allow-unordered', 'BTHome: accept object ids out of the order the spec requires (some shipping devices do this)')
    .action((kind: string, hex: string, o: { key?: string; mac?: string; lastCounter?: string; allowUnordered?: boolean }) => {
      const bytes = parseHex(hex);
      if (!bytes.ok) {
        io.err(`${bytes.error.message}\n`);
        setCode(1);
        return;
      }
      let key: Uint8Array | undefined;
      if (o.key !== undefined) {
        const k = parseHex(o.key);
        if (!k.ok || k.value.length !== 16) throw new UsageError('--key must be 16 bytes of hex (the BTHome bind key)');
        key = k.value;
      }
      // No --mac check here: an advert may carry its address (device info bit 1); when it does not, the decoder
      // answers FERRY_DECODE_MAC_REQUIRED itself.
      const replay = o.lastCounter === undefined ? undefined : new ReplayGuard([[o.mac ?? '', intOption(o.lastCounter, '--last-counter', 0, 0xffff_ffff)]]);
      if (replay !== undefined && o.mac === undefined) throw new UsageError('--last-counter needs --mac');
      const r = decode(kind, bytes.value, { key, mac: o.mac, replay, allowUnordered: o.allowUnordered });
      if (r.ok) io.out(`${JSON.stringify(r.value, hexReplacer)}\n`);
      else {
        io.err(`${r.error.message}\n`);
        setCode(1);
      }
    });
}
